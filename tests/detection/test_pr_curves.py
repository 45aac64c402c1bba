import matplotlib.image
import matplotlib.pyplot as plt
import numpy as np
import pytest

from keras_recipes.detection import evaluate_detections, pr_curves
from keras_recipes.detection.pr_curves import (
    draw_precision_recall,
    plot_precision_recall,
)

CLASS_NAMES = ["circle", "square", "triangle"]


def curves_with_gaps():
    """Class 0 found twice of three, class 1 never found, class 2 never seen."""
    truth = [
        {"boxes": [[0, 0, 10, 10], [20, 0, 30, 10]], "classes": [0, 0]},
        {"boxes": [[0, 0, 10, 10], [50, 50, 60, 60]], "classes": [0, 1]},
    ]
    predicted = [
        {
            "boxes": [[0, 0, 10, 10], [40, 40, 50, 50], [20, 0, 30, 10]],
            "classes": [0, 0, 0],
            "scores": [0.9, 0.8, 0.6],
        },
        {"boxes": [[0, 0, 10, 10]], "classes": [2], "scores": [0.7]},
    ]
    return evaluate_detections(truth, predicted)["pr_curves"]


def test_plot_precision_recall_writes_a_png(tmp_path):
    curves = curves_with_gaps()
    assert curves.keys() == {0, 1}
    assert curves[1]["recall"].tolist() == [0.0]
    path = plot_precision_recall(curves, CLASS_NAMES, tmp_path / "pr.png")
    assert path == tmp_path / "pr.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = matplotlib.image.imread(path)
    assert image.shape[0] > 300 and image.shape[1] > 400
    assert image.std() > 0.05


def test_plot_precision_recall_without_any_curve(tmp_path):
    path = plot_precision_recall({}, CLASS_NAMES, tmp_path / "empty.png")
    assert path.stat().st_size > 0
    path = plot_precision_recall({}, [], tmp_path / "nothing.png")
    assert path.stat().st_size > 0


def test_the_figure_shows_the_curves_it_was_given():
    curves = curves_with_gaps()
    figure, axis = plt.subplots()
    try:
        draw_precision_recall(axis, curves, CLASS_NAMES)
        lines = axis.get_lines()
        assert len(lines) == len(CLASS_NAMES)
        for index, line in enumerate(lines[:2]):
            np.testing.assert_array_equal(line.get_xdata(), curves[index]["recall"])
            np.testing.assert_array_equal(line.get_ydata(), curves[index]["precision"])
            assert line.get_drawstyle() == "steps-pre"
        assert len(lines[2].get_xdata()) == 0
        labels = [text.get_text() for text in axis.get_legend().get_texts()]
        assert labels == [
            "circle: AP50 0.556",
            "square: AP50 0.000",
            "triangle: no ground truth",
        ]
    finally:
        plt.close(figure)


def test_the_title_gives_the_mean_ap50(tmp_path, monkeypatch):
    figures = []
    monkeypatch.setattr(pr_curves.plt, "close", figures.append)
    curves = curves_with_gaps()
    plot_precision_recall(curves, CLASS_NAMES, tmp_path / "pr.png", title="val")
    (figure,) = figures
    assert figure.axes[0].get_title() == "val (mAP50 0.278)"
    monkeypatch.undo()
    plt.close(figure)


def test_many_classes_get_distinct_styles(tmp_path):
    names = [f"class {i}" for i in range(12)]
    curves = {
        i: {"recall": np.array([0.0, 0.5]), "precision": [1.0, 0.9], "ap50": 0.45}
        for i in range(12)
    }
    figure, axis = plt.subplots()
    try:
        lines = draw_precision_recall(axis, curves, names).get_lines()
        styles = {(line.get_color(), line.get_linestyle()) for line in lines}
        assert len(styles) == 12
    finally:
        plt.close(figure)
    assert plot_precision_recall(curves, names, tmp_path / "many.png").exists()


def test_rejects_curves_without_names_or_of_unequal_length(tmp_path):
    curves = curves_with_gaps()
    with pytest.raises(ValueError, match=r"class ids \[0, 1\] for 0 class_names"):
        plot_precision_recall(curves, [], tmp_path / "pr.png")
    bad = {0: {"recall": [0.0, 1.0], "precision": [1.0], "ap50": 1.0}}
    with pytest.raises(ValueError, match=r"recall.shape=\(2,\), precision.shape"):
        plot_precision_recall(bad, CLASS_NAMES, tmp_path / "pr.png")
