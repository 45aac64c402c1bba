"""Commands of a face_triplet run: enroll, verify and identify."""

from pathlib import Path

from keras_recipes.api import load_run
from keras_recipes.errors import UserError
from keras_recipes.faces.commands import (
    DATABASE,
    enroll_folder,
    identify_files,
    verify_files,
)


def _database_path(args):
    return Path(args.database) if args.database else Path(args.run_dir) / DATABASE


def _load_run(run_dir):
    recipe, model = load_run(run_dir)
    if recipe.name != "face_triplet":
        raise UserError(f"{run_dir} is a '{recipe.name}' run, not a face_triplet one")
    return model


def enroll_command(args):
    """Enrols the people of a folder into a run's database."""
    model = _load_run(args.run_dir)
    path = _database_path(args)
    database, counts = enroll_folder(args.run_dir, model, args.folder, path)
    for name, count in counts.items():
        print(f"enrolled {name} ({count} image{'s' * (count != 1)})")
    print(f"database: {path} ({len(database.identities)} identities)")
    return 0


def verify_command(args):
    """Prints whether two images show the same person."""
    model = _load_run(args.run_dir)
    same, distance, threshold = verify_files(
        args.run_dir, model, args.image1, args.image2
    )
    verdict = "same" if same else "different"
    sign = "<=" if same else ">"
    print(f"{verdict}: distance {distance:.4f} {sign} threshold {threshold:.4f}")
    return 0


def identify_command(args):
    """Prints who is in each image, or `unknown`."""
    model = _load_run(args.run_dir)
    rows = identify_files(args.run_dir, model, args.images, _database_path(args))
    for path, name, distance in rows:
        print(f"{path}: {name} (distance {distance:.4f})")
    return 0
