"""The papers registry, `thesis-lib reproduce`, and the stored results the book's page reads."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from thesis_lib import papers
from thesis_lib.config import run_config


@pytest.mark.parametrize("name", list(papers.EXPERIMENTS))
def test_stored_result_matches_the_registry(name):
    """The committed JSON was produced by the experiment as it is defined now (not a stale one)."""
    exp = papers.EXPERIMENTS[name]
    result = papers.load_result(name)
    assert result["command"] == f"thesis-lib reproduce {name}"
    assert result["reported"] == exp.reported
    assert [r["label"] for r in result["runs"]] == list(exp.runs)
    for row, config in zip(result["runs"], exp.runs.values()):
        assert row["config"] == config.to_dict(), (
            f"results/papers/{name}.json is stale: run 'thesis-lib reproduce {name}'"
        )
        assert row["epochs"] == config.schedule.epochs
        for key in exp.reported:
            if not key.endswith("_se"):
                assert key in row["metrics"], key
        assert (papers.stored_results_dir() / row["samples"]).exists()
        if exp.codes and "codes" in row:
            assert (papers.stored_results_dir() / row["codes"]).exists()
        if exp.proposal_scales and "nll_by_proposal_scale" in row:
            assert list(row["nll_by_proposal_scale"]) == [str(s) for s in exp.proposal_scales]
    if exp.codes:
        assert any("codes" in row for row in result["runs"]), (
            f"results/papers/{name}.json has no pictures of codes: run 'thesis-lib reproduce {name}'"
        )
    if exp.proposal_scales:
        assert any("nll_by_proposal_scale" in row for row in result["runs"]), (
            f"results/papers/{name}.json is stale: run 'thesis-lib reproduce {name}'"
        )
    assert (result["real_data"] is not None) == exp.real_data


def test_reproduce_writes_and_regenerates(tmp_path: Path, monkeypatch, require_mnist):
    tiny = papers.Experiment(
        name="tiny-vae",
        paper="a test",
        reported={"test_nll": 100.0},
        note="tiny",
        runs={"N_z=2": run_config("vae", epochs=1, latent_dim=2, hidden_dims=(16,))},
        metrics=("likelihood",),
        evaluate={"k": 5, "n_test": 50},
        codes=True,
        proposal_scales=(0.5,),
    )
    monkeypatch.setitem(papers.EXPERIMENTS, "tiny-vae", tiny)
    kwargs = dict(runs_dir=tmp_path / "runs", results_dir=tmp_path / "results", progress=False)
    first = papers.reproduce("tiny-vae", **kwargs)
    stored = json.loads((tmp_path / "results" / "tiny-vae.json").read_text())
    assert stored == json.loads(json.dumps(first))
    row = stored["runs"][0]
    assert row["label"] == "N_z=2" and row["epochs"] == 1 and row["metrics"]["n_test"] == 50
    assert row["metrics"]["test_nll"] <= row["metrics"]["test_neg_elbo"] + 0.5
    assert (tmp_path / "results" / row["samples"]).exists() and (
        tmp_path / "runs" / "tiny-vae" / "N_z2" / "checkpoint.pt"
    ).exists()
    assert (tmp_path / "results" / row["codes"]).exists() and row["nll_by_proposal_scale"]["0.5"] > 0
    assert papers.load_result("tiny-vae", tmp_path / "results") == stored
    # running the command again regenerates the same numbers from the finished run
    (tmp_path / "results" / "tiny-vae.json").unlink()
    again = papers.reproduce("tiny-vae", **kwargs)
    assert again["runs"][0]["metrics"]["test_nll"] == pytest.approx(row["metrics"]["test_nll"])


def test_a_failure_stores_its_evidence_findings_steps_and_the_failing_runs_snapshots(tmp_path: Path, monkeypatch):
    """A gallery experiment (expect set) on the ring: each row keeps what the page reads; only the failing run keeps
    its snapshots (thinned), and its replay and mode hops are drawn from them."""
    from thesis_lib.diagnosis import findings
    from thesis_lib.evidence import modes_over_training
    from thesis_lib.snapshots import load_snapshots

    small = {"dataset": "mixture-2d", "g_hidden": (16,), "d_hidden": (16,), "latent_dim": 2, "epochs": 1}
    tiny = papers.Experiment(
        name="tiny-failure",
        paper="a test",
        reported={},
        note="tiny",
        runs={"fails": run_config("gan", d_lr_factor=0.1, **small), "cured": run_config("gan", **small)},
        metrics=(),
        expect={"fails": ("mode-collapse",), "cured": ()},
        steps=("D(G(z))",),
    )
    monkeypatch.setitem(papers.EXPERIMENTS, "tiny-failure", tiny)
    monkeypatch.setattr(papers, "STORED_SNAPSHOTS", 5)
    result = papers.reproduce("tiny-failure", runs_dir=tmp_path / "runs", results_dir=tmp_path / "res", progress=False)
    fails, cured = result["runs"]
    for row in (fails, cured):
        assert "metrics" not in row and row["findings"] == [f.name for f in findings(row["evidence"])]
        assert sum(row["evidence"]["mode_histogram"]) <= 2000 and row["evidence"]["modes_of"] == "components"
        assert 0 < len(row["steps"]["D(G(z))"]) <= papers.STORED_STEPS and (tmp_path / "res" / row["samples"]).exists()
    assert "snapshots" not in cured
    snaps = load_snapshots(tmp_path / "res" / fails["snapshots"])
    assert len(snaps["steps"]) == 5 and snaps["steps"][0] == 0 and len(modes_over_training(snaps)) == 5


def test_unknown_experiment_is_one_clear_error():
    allowed = ", ".join(papers.EXPERIMENTS)
    assert "gan-parzen" in allowed and "aae-parzen" in allowed
    with pytest.raises(ValueError, match=re.escape(f"unknown experiment 'gan'; allowed: {allowed}")):
        papers.reproduce("gan")
    with pytest.raises(ValueError, match="unknown experiment"):
        papers.load_result("nope")
