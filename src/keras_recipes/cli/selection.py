"""Commands of model selection: cv and ensemble."""

import math

from keras_recipes.selection import cross_validate, ensemble


def cv_command(args):
    """Runs K-fold cross-validation and prints each fold and the mean and std.

    Args:
        args: Parsed arguments with `recipe`, `folds`, `set` and `runs_root`.

    Returns:
        The exit status, 0.

    Example:

    ```python
    main(["cv", "mlp", "--folds", "5"])
    ```
    """
    outcome = cross_validate(args.recipe, args.folds, args.set, args.runs_root)
    names = [
        n for n in outcome.scores if n.startswith(("val_", "test_")) or n == "loss"
    ]
    print(f"{'metric':28s} " + " ".join(f"fold-{i + 1:<4d}" for i in range(args.folds)))
    for name in names:
        values = " ".join(f"{v:<9.4f}" for v in outcome.scores[name])
        print(f"{name:28s} {values}")
    print()
    for name in names:
        mean, std = outcome.mean(name), outcome.std(name)
        print(f"{name}: mean {mean:.4f} std {std:.4f} over {args.folds} folds")
    print(f"cross-validation runs: {outcome.parent}")
    return 0


def ensemble_command(args):
    """Prints each run's score, their mean, and the averaged ensemble's score.

    Args:
        args: Parsed arguments with `run_dirs`.

    Returns:
        The exit status, 0.

    Example:

    ```python
    main(["ensemble", "runs/mlp/a", "runs/mlp/b", "runs/mlp/c"])
    ```
    """
    report = ensemble(args.run_dirs)
    split = report["split"]
    for member in report["members"]:
        scores = ", ".join(
            f"{k} {v:.4f}" for k, v in member.items() if isinstance(v, float)
        )
        print(f"{member['run_dir']}: {split} {scores}")
    for label, key in (
        ("mean of the members", "member_mean"),
        ("ensemble", "ensemble"),
    ):
        scores = ", ".join(f"{k} {v:.4f}" for k, v in report[key].items())
        print(f"{label}: {split} {scores}")
    name = "accuracy" if "accuracy" in report["ensemble"] else "mse"
    gain = report["ensemble"][name] - report["member_mean"][name]
    if not math.isnan(gain):
        print(f"ensemble minus mean of members ({name}): {gain:+.4f}")
    return 0
