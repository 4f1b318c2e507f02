"""Per-group errors with bootstrap intervals (chapter 14), checked on examples computed by hand."""
import numpy as np
import pandas as pd
import pytest

import mmsa_helpers
from mmsa_helpers.errors import ConfigError, MMSADataError
from mmsa_helpers.fairness import acc2, bands, group_metrics, mae, metric_gap, per_cluster, speaker_traits

#             a       a     b     b     c     c
PRED = np.array([1.0, 2.0, -1.0, 0.0, 0.5, -2.0])
TRUTH = np.array([0.0, 2.0, 1.0, 1.0, 1.0, -1.0])
GROUPS = ["a", "a", "b", "b", "c", "c"]


def test_metrics_by_hand():
    assert mae(PRED, TRUTH) == pytest.approx((1 + 0 + 2 + 1 + 0.5 + 1) / 6)
    # label 0 is left out (MMSA's Non0_acc_2); a prediction of 0 counts as negative
    assert acc2(PRED, TRUTH) == pytest.approx(3 / 5)
    assert np.isnan(acc2(np.array([1.0]), np.array([0.0])))


def test_group_metrics_by_hand():
    t = group_metrics(PRED, TRUTH, GROUPS, n_boot=50)
    assert list(t.index) == ["a", "b", "c"]
    assert t["n"].tolist() == [2, 2, 2]
    assert t["MAE"].tolist() == pytest.approx([0.5, 1.5, 0.75])
    assert t["Acc2"].tolist() == pytest.approx([1.0, 0.0, 1.0])
    assert (t["MAE_lo"] <= t["MAE"]).all() and (t["MAE"] <= t["MAE_hi"]).all()
    assert list(t.columns) == ["n", "clusters", "MAE", "MAE_lo", "MAE_hi", "Acc2", "Acc2_lo", "Acc2_hi"]


def test_one_cluster_per_group_gives_a_point_interval():
    # resampling the only cluster of a group always returns the whole group
    t = group_metrics(PRED, TRUTH, GROUPS, clusters=GROUPS, n_boot=20)
    assert (t["MAE_lo"] == t["MAE"]).all() and (t["MAE_hi"] == t["MAE"]).all()
    assert t["clusters"].tolist() == [1, 1, 1]


def test_clusters_widen_the_interval():
    # one group, two speakers: one always right (error 0), one always 2 off; 10 utterances each
    pred = np.r_[np.ones(10), np.ones(10) + 2]
    truth = np.ones(20)
    groups = ["g"] * 20
    speakers = ["s1"] * 10 + ["s2"] * 10
    by_utt = group_metrics(pred, truth, groups, n_boot=2000, metrics=["MAE"])
    by_spk = group_metrics(pred, truth, groups, clusters=speakers, n_boot=2000, metrics=["MAE"])
    assert by_utt.at["g", "MAE"] == by_spk.at["g", "MAE"] == 1.0
    # drawing speakers: MAE is 0, 1 or 2 with probabilities 1/4, 1/2, 1/4, so the 95 % interval is [0, 2]
    assert by_spk.at["g", "MAE_lo"] == 0.0 and by_spk.at["g", "MAE_hi"] == 2.0
    assert 0.3 < by_utt.at["g", "MAE_lo"] < 1 < by_utt.at["g", "MAE_hi"] < 1.7


def test_same_seed_same_interval():
    a = group_metrics(PRED, TRUTH, GROUPS, n_boot=100, seed=3)
    b = group_metrics(PRED, TRUTH, GROUPS, n_boot=100, seed=3)
    pd.testing.assert_frame_equal(a, b)


def test_gap_by_hand():
    g = metric_gap(PRED, TRUTH, GROUPS, "MAE", n_boot=50)
    assert (g["worst"], g["best"]) == ("b", "a") and g["gap"] == pytest.approx(1.0)
    acc = metric_gap(PRED, TRUTH, GROUPS, "Acc2", n_boot=50)
    assert acc["worst"] == "b" and acc["gap"] == pytest.approx(1.0)       # worse accuracy is lower
    pair = metric_gap(PRED, TRUTH, GROUPS, "MAE", pair=("a", "c"), clusters=GROUPS, n_boot=20)
    assert pair["gap"] == pytest.approx(-0.25) and pair["lo"] == pair["hi"] == pytest.approx(-0.25)
    assert pair["excludes_zero"] is True


def test_per_cluster_by_hand():
    t = per_cluster(PRED, TRUTH, GROUPS)
    assert t["MAE"].tolist() == pytest.approx([0.5, 1.5, 0.75]) and t["n"].tolist() == [2, 2, 2]


@pytest.mark.parametrize("kwargs, match", [
    (dict(pred=PRED[:5]), "one value per utterance"),
    (dict(pred=np.r_[PRED[:5], np.nan]), "finite"),
    (dict(groups=["a", "a", None, "b", "c", "c"]), "needs a group"),
    (dict(clusters=["s1", "s2", "s1", "s3", "s4", "s4"]), "more than one group"),
    (dict(clusters=["s1"]), "one value per utterance"),
    (dict(metrics=["F1"]), "unknown metric"),
    (dict(n_boot=0), "n_boot"),
    (dict(ci=95), "coverage"),
])
def test_bad_input_is_refused(kwargs, match):
    args = dict(pred=PRED, truth=TRUTH, groups=GROUPS)
    args.update(kwargs)
    with pytest.raises(ConfigError, match=match):
        group_metrics(args.pop("pred"), args.pop("truth"), args.pop("groups"), **args)


def test_gap_refusals():
    with pytest.raises(ConfigError, match="two groups"):
        metric_gap(PRED, TRUTH, ["a"] * 6)
    with pytest.raises(ConfigError, match="pair must name"):
        metric_gap(PRED, TRUTH, GROUPS, pair=("a", "z"))


def test_speaker_traits_and_bands():
    corpus = mmsa_helpers.load_dataset("synthetic", sizes=(60, 20, 40), speakers=(6, 2, 4))
    traits = speaker_traits(corpus, "test")
    assert list(traits.index) == list(dict.fromkeys(corpus["test"]["speaker"]))
    assert {"gender", "f0_base", "vocal_expressiveness", "facial_expressiveness"} <= set(traits.columns)
    b = bands(traits["f0_base"])
    assert sorted(b.value_counts().tolist()) == [2, 2]
    assert (traits["f0_base"][b == "high"].min() > traits["f0_base"][b == "low"].max())
    no_meta = mmsa_helpers.corpus.Corpus("x", {"test": {"id": ["a"]}})
    with pytest.raises(MMSADataError, match="speaker metadata"):
        speaker_traits(no_meta, "test")
    with pytest.raises(ConfigError, match="two labels"):
        bands(traits["f0_base"], ["all"])


def test_bootstrap_sampler_draws_whole_clusters():
    from mmsa_helpers.fairness import bootstrap_sampler

    rows = np.arange(6)
    clusters = np.array(["s1", "s1", "s1", "s2", "s3", "s3"])
    draw = bootstrap_sampler(rows, clusters)
    rng = np.random.default_rng(0)
    for _ in range(20):
        sample = draw(rng)
        counts = {c: int(np.sum(clusters[sample] == c)) for c in ("s1", "s2", "s3")}
        # every cluster comes whole (3, 1 and 2 rows), as often as it was drawn, 3 clusters in all
        assert counts["s1"] % 3 == 0 and counts["s3"] % 2 == 0
        assert counts["s1"] // 3 + counts["s2"] + counts["s3"] // 2 == 3
    plain = bootstrap_sampler(rows, None)(rng)
    assert len(plain) == 6 and set(plain) <= set(rows)


def test_cluster_spread_tells_a_speaker_effect_from_chance():
    from mmsa_helpers.fairness import cluster_spread

    rng = np.random.default_rng(0)
    speakers = np.repeat([f"s{i}" for i in range(10)], 20)
    truth = rng.normal(0, 1, 200)
    noise = rng.normal(0, 0.5, 200)
    same = cluster_spread(truth + noise, truth, speakers, n_perm=200)
    assert same["p_value"] > 0.05                      # every speaker equally hard: chance
    offset = np.repeat(np.linspace(0, 2, 10), 20)      # speaker i is off by 2i/9
    harder = cluster_spread(truth + noise + offset, truth, speakers, n_perm=200)
    assert harder["p_value"] < 0.01 and harder["observed_sd"] > 2 * harder["chance_sd"]
    assert harder["chance_sorted"].shape == (10,) and np.all(np.diff(harder["chance_sorted"]) >= 0)
    # by hand: two speakers, MAE 0 and 2: SD over speakers is 1
    two = cluster_spread(np.r_[np.zeros(2), np.full(2, 2.0)], np.zeros(4), ["a", "a", "b", "b"], n_perm=10)
    assert two["observed_sd"] == 1.0
    with pytest.raises(ConfigError, match="two clusters"):
        cluster_spread(PRED, TRUTH, ["a"] * 6)
