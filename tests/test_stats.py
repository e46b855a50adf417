import doctest

import numpy as np
import pytest

import rag.stats
from rag.stats import percentile


def test_percentile_matches_numpys_linear_interpolation():
    values = [0.3, 12.0, 0.9, 4.4, 2.5, 7.0, 0.01]
    for q in (0, 5, 50, 90, 95, 99, 100):
        assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))
    assert percentile([3.0], 95) == 3.0


def test_percentile_refuses_what_it_cannot_summarise():
    with pytest.raises(ValueError, match="empty sequence"):
        percentile([], 50)
    with pytest.raises(ValueError, match=r"q must be in 0\.\.100, got 150"):
        percentile([1.0], 150)


def test_the_worked_example_holds():
    assert doctest.testmod(rag.stats).failed == 0
