"""Image files in a user's folder: which to use, which to leave out, and why.

Every file a folder scan finds must be a readable image, checked before
training starts: a bad file stops the run with its path, since silently
training on less data than the user thinks is worse. Hidden and system
files are never data and are left out and counted; `data.skip_bad_files`
leaves unreadable files out too, listed in the run directory.
"""

import dataclasses
import os
import struct
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image

from keras_recipes.errors import DataError
from keras_recipes.saving import write_text_atomic

IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
# What Pillow reports for the files `tf.io.decode_image` reads too (MPO is the
# multi-picture JPEG some cameras write).
IMAGE_FORMATS = ("BMP", "GIF", "JPEG", "MPO", "PNG")
# Pillow raises any of these for a damaged or disguised file.
IMAGE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    TypeError,
    IndexError,
    EOFError,
    struct.error,
    Image.DecompressionBombError,
)
# What operating systems and archivers leave in folders; never a user's data.
SYSTEM_FILES = ("thumbs.db", "ehthumbs.db", "desktop.ini", "__macosx")
SKIPPED_FILE = "skipped_files.txt"


@dataclasses.dataclass
class SkippedFiles:
    """The files a folder scan left out, for the run to report.

    Hidden and system files (`.DS_Store`, `Thumbs.db`, ...) are always left
    out. A file that is not a readable image stops the scan, unless
    `skip_bad` is set: then it is left out too and kept here with the
    reason.

    Attributes:
        skip_bad: Leave out unreadable files instead of stopping.
        hidden: `Path`s of the hidden and system files left out.
        bad: `(path, reason)` pairs of the unreadable files left out.

    Example:

    ```python
    skipped = SkippedFiles(skip_bad=True)
    names, files = scan_class_folder("data/train", skipped=skipped)
    print(skipped.summary())
    ```
    """

    skip_bad: bool = False
    hidden: list = dataclasses.field(default_factory=list)
    bad: list = dataclasses.field(default_factory=list)

    def summary(self):
        """Returns one line per kind of file left out (none: an empty list).

        Returns:
            A list of strings.

        Example:

        ```python
        for line in skipped.summary():
            print(line)
        ```
        """
        lines = []
        if self.hidden:
            names = sorted({path.name for path in self.hidden})
            shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
            lines.append(
                f"skipped {len(self.hidden)} hidden or system file(s) in the "
                f"data folder ({shown})"
            )
        if self.bad:
            lines.append(
                f"skipped {len(self.bad)} unreadable file(s) (data.skip_bad_files); "
                f"listed in {SKIPPED_FILE}"
            )
        return lines

    def report(self, run_dir):
        """Prints the summary; lists the bad files in `run_dir/skipped_files.txt`.

        Args:
            run_dir: The run directory.

        Returns:
            `None`.

        Example:

        ```python
        data.skipped_files.report(recipe.run_dir)
        ```
        """
        for line in self.summary():
            print(line, flush=True)
        if self.bad:
            listing = "".join(f"{path}\t{reason}\n" for path, reason in self.bad)
            write_text_atomic(Path(run_dir) / SKIPPED_FILE, listing)

    def check(self, path):
        """Returns whether `path` is an image to use, recording it otherwise.

        Args:
            path: A file found in the data folder.

        Returns:
            `True` for a readable image; `False` for a bad file when
            `skip_bad` is set. Otherwise a bad file raises `DataError`.

        Example:

        ```python
        files = [p for p in candidates if skipped.check(p)]
        ```
        """
        return self.admit(path, image_problems([path], threads=1)[0])

    def admit(self, path, problem):
        """Returns whether a checked file is used, recording it otherwise.

        Args:
            path: A file found in the data folder.
            problem: What checking it found: `None` for a readable image,
                else the `DataError` (as `image_problems` gives them).

        Returns:
            `True` for a readable image; `False` for a bad file when
            `skip_bad` is set. Otherwise a bad file raises `DataError`.

        Example:

        ```python
        kept = [p for p, e in zip(paths, image_problems(paths)) if skipped.admit(p, e)]
        ```
        """
        if problem is None:
            return True
        if not self.skip_bad:
            raise DataError(
                f"{problem}; or set data.skip_bad_files=true to skip such files"
            ) from None
        self.bad.append((path, str(problem)))
        return False


def image_problems(paths, threads=None):
    """Checks image files in parallel; returns each one's `DataError` or `None`.

    Pillow decodes outside Python's lock, so threads check files side by
    side.

    Args:
        paths: Image files.
        threads: Files checked at once. Defaults to `None`: one per core.

    Returns:
        A list, in the order of `paths`, of `None` (a readable image) or the
        `DataError` that `check_image` raised.

    Example:

    ```python
    problems = image_problems(sorted(Path("data/cat").glob("*.jpg")))
    ```
    """

    def problem(path):
        try:
            check_image(path)
        except DataError as error:
            return error
        return None

    threads = threads or os.cpu_count() or 1
    if threads == 1 or len(paths) < 2:
        return [problem(path) for path in paths]
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(problem, paths))


def is_hidden_or_system(path, root):
    """Returns whether a file under `root` is hidden or a system file.

    Hidden means its name, or a folder's between `root` and it, starts with
    a dot; system files are those of `SYSTEM_FILES` (and what they hold).

    Args:
        path: A path inside `root`.
        root: The data folder searched.

    Returns:
        A `bool`.

    Example:

    ```python
    is_hidden_or_system(Path("data/cat/.DS_Store"), Path("data"))  # True
    ```
    """
    parts = Path(path).relative_to(root).parts
    return any(p.startswith(".") or p.lower() in SYSTEM_FILES for p in parts)


def list_folder_images(folder, skipped=None):
    """Lists a folder's images at any depth, sorted, hidden files left out.

    Args:
        folder: The folder to search.
        skipped: A `SkippedFiles` that records what is left out and says
            whether unreadable files stop the scan. Defaults to `None`: a
            fresh one that stops at the first unreadable file.

    Returns:
        A sorted list of `Path`s of readable images.

    Example:

    ```python
    files = list_folder_images("data/train/cat")
    ```
    """
    skipped = SkippedFiles() if skipped is None else skipped
    folder = Path(folder)
    candidates = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if is_hidden_or_system(path, folder):
            skipped.hidden.append(path)
        else:
            candidates.append(path)
    problems = image_problems(candidates)
    return [
        path
        for path, problem in zip(candidates, problems, strict=True)
        if skipped.admit(path, problem)
    ]


def check_image(path, remedy="move it out of the data folder"):
    """Raises `DataError` unless `path` is an image file that decodes.

    Args:
        path: The file.
        remedy: What the message of a file that is not an image advises.
            Defaults to `"move it out of the data folder"`.

    Returns:
        `None`.

    Example:

    ```python
    check_image("data/cats/cat.1.jpg")
    ```
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"image file not found: {path}")
    if path.is_dir():
        raise DataError(f"not an image file but a folder: {path}")
    if path.suffix.lower() not in IMAGE_EXTENSIONS:
        raise DataError(
            f"not an image file: {path} (expected {', '.join(IMAGE_EXTENSIONS)}; "
            f"{remedy})"
        )
    try:
        with Image.open(path) as image:
            image.load()
            found = image.format
    except IMAGE_ERRORS as error:
        raise DataError(
            f"cannot read image {path}: {error} (replace or remove the file)"
        ) from None
    if found not in IMAGE_FORMATS:
        raise DataError(
            f"cannot read image {path}: it holds {found} data, not "
            f"{path.suffix[1:].upper()}; convert it to PNG or JPEG"
        )


def find_image_files(paths):
    """Expands image files and folders into the image files to predict.

    Folders are searched at any depth and their image files (by extension,
    hidden files aside) taken in sorted order; other files in them are
    skipped. A path that is named directly must be a readable image.

    Args:
        paths: Image files and folders.

    Returns:
        A list of `Path`s, in the order given.

    Example:

    ```python
    find_image_files(["photos/", "extra.jpg"])
    ```
    """
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.suffix.lower() in IMAGE_EXTENSIONS
                and p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not found:
                raise DataError(
                    f"no image files ({', '.join(IMAGE_EXTENSIONS)}) in folder {path}"
                )
            files.extend(found)
        elif path.exists():
            check_image(path, remedy="give image files or folders of them")
            files.append(path)
        else:
            raise DataError(f"no such image file or folder: {path}")
    return files
