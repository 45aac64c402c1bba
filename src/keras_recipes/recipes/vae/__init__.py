"""The `vae` recipe: a variational autoencoder, its negative ELBO in nats,
latent plots and samples from the prior.

`config` holds the settings (no TensorFlow), `recipe` the `VAERecipe`.
"""
