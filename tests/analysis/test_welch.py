"""Welch's t-test from summary statistics, checked against scipy, the formula and the paper's statements."""

import math

import pytest
from scipy import stats

from nc.analysis.paper import paper_table
from nc.analysis.stats import welch_dof, welch_test


def test_matches_scipy_on_raw_samples():
    a = [1.0, 1.2, 0.9, 1.1, 1.05]
    b = [1.3, 1.4, 1.25, 1.5]
    sd = lambda x: math.sqrt(sum((v - sum(x) / len(x)) ** 2 for v in x) / (len(x) - 1))
    res = welch_test(sum(a) / 5, sd(a), 5, sum(b) / 4, sd(b), 4)
    ref = stats.ttest_ind(a, b, equal_var=False)
    assert res.t == pytest.approx(ref.statistic)
    assert res.p == pytest.approx(ref.pvalue)
    assert res.significant


def test_dof_is_welch_satterthwaite():
    # s1^2/n1 = 0.5, s2^2/n2 = 0.25 -> (0.75)^2 / (0.25/4 + 0.0625/3)
    assert welch_dof(math.sqrt(2.5), 5, 1.0, 4) == pytest.approx(0.5625 / (0.0625 + 0.0625 / 3))


def test_one_sided_halves_the_p_value_in_the_tested_direction():
    two = welch_test(1.0, 0.1, 5, 1.2, 0.1, 5)
    less = welch_test(1.0, 0.1, 5, 1.2, 0.1, 5, alternative="less")
    greater = welch_test(1.0, 0.1, 5, 1.2, 0.1, 5, alternative="greater")
    assert less.p == pytest.approx(two.p / 2)
    assert greater.p == pytest.approx(1 - two.p / 2)


def test_paper_table6_pairs_are_significant_with_five_seeds():
    t6 = paper_table("table06_byte_matched")
    rows = list(zip(t6["bits_per_byte"], t6["std"]))
    for i in range(3):
        for j in range(i + 1, 3):
            (m1, s1), (m2, s2) = rows[i], rows[j]
            assert welch_test(m1, s1, 5, m2, s2, 5).significant, (i, j)


def test_paper_table5_decompression_gain_is_not_significant():
    t5 = paper_table("table05_seq2seq")
    ac = t5[t5["compression"] == "AC[v=256]"].set_index("task")
    dec, lm = ac.loc["Decompress"], ac.loc["Byte Level LM"]
    res = welch_test(
        dec["cross_entropy"],
        dec["cross_entropy_std"],
        5,
        lm["cross_entropy"],
        lm["cross_entropy_std"],
        5,
        alternative="less",
    )
    # The paper reports p = 0.07: the one-sided test with five seeds gives 0.074.
    assert res.p == pytest.approx(0.07, abs=0.01)
    assert not res.significant


@pytest.mark.parametrize(
    "kwargs, match", [({"n1": 1}, "at least 2"), ({"alternative": "bigger"}, "alternative"), ({"std1": -1.0}, ">= 0")]
)
def test_rejects_bad_input(kwargs, match):
    args = {"mean1": 1.0, "std1": 0.1, "n1": 3, "mean2": 1.1, "std2": 0.1, "n2": 3, **kwargs}
    alternative = args.pop("alternative", "two-sided")
    with pytest.raises(ValueError, match=match):
        welch_test(**args, alternative=alternative)
