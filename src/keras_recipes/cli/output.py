"""How the command line prints results."""


def print_metrics(metrics):
    """Prints metrics one per line as `name: value`, floats to 4 decimals.

    Args:
        metrics: Metric name to value.

    Returns:
        `None`.

    Example:

    ```python
    print_metrics({"test_accuracy": 0.98})  # test_accuracy: 0.9800
    ```
    """
    for name, value in metrics.items():
        text = f"{value:.4f}" if isinstance(value, float) else value
        print(f"{name}: {text}")
