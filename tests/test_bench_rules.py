"""The benchmark commands' pure parts: deterministic synthetic data with valid identifiers, quotas, figures."""

from __future__ import annotations

import json
from datetime import date

import pytest

from qosym_chassis.identifiers import bin_problem
from qosym_chassis.iin import check_digit
from qosym_cli.bench import synth
from qosym_cli.bench.common import Figure, Latencies, emit, percentiles_ms
from qosym_cli.bench.round import quotas_for

pytestmark = pytest.mark.unit
TODAY = date(2026, 12, 2)


def test_the_same_seed_gives_the_same_families_and_another_seed_other_ones() -> None:
    districts = ["almaty", "yesil"]
    first = synth.families(7, "round", 50, districts, TODAY)
    assert first == synth.families(7, "round", 50, districts, TODAY)
    assert first != synth.families(8, "round", 50, districts, TODAY)
    assert sum(len(kids) for _, kids in first) == 50


def test_every_synthetic_iin_is_valid_distinct_and_of_a_child_of_six_to_twelve() -> None:
    families = synth.families(3, "month", 400, ["yesil"], TODAY)
    children = [kid for _, kids in families for kid in kids]
    iins = [kid.iin for kid in children] + [person.iin for person, _ in families]
    assert len(set(iins)) == len(iins)
    assert all(len(i) == 12 and check_digit(i[:11]) == int(i[11]) for i in iins)
    assert all(6 <= (TODAY - kid.born).days // 365 <= 12 for kid in children)
    assert all(kid.iin[6] in "56" for kid in children) and all(p.iin[6] in "34" for p, _ in families)


def test_synthetic_bins_are_valid_legal_entity_bins() -> None:
    ids = synth.Identities(synth.rng_for(1, "bins"))
    bins = [ids.bin() for _ in range(50)]
    assert len(set(bins)) == 50 and all(bin_problem(b) is None for b in bins)


def test_a_region_copy_has_a_letters_only_code_stable_per_seed() -> None:
    region = synth.region(5, "round")
    assert region["code"] == synth.region(5, "round")["code"] != synth.region(6, "round")["code"]
    assert region["code"].isalpha() and region["code"].islower()
    assert synth.districts(region)


def test_quotas_cover_about_the_share_asked_and_at_least_one_seat_per_cell() -> None:
    kids = [[synth.ChildSpec("x", TODAY, "yesil", "sports")] for _ in range(9)]
    kids += [[synth.ChildSpec("y", TODAY, "nura", "creativity")]]
    assert quotas_for(kids, 0.5) == {"nura": {"creativity": 1}, "yesil": {"sports": 4}}
    assert quotas_for(kids, 1.0) == {"nura": {"creativity": 1}, "yesil": {"sports": 9}}


def test_a_figure_compares_seconds_or_p99_with_its_baseline() -> None:
    timed = Figure("x", 100, 4.0).compared_to(0.5)
    assert (timed.rate, timed.ratio) == (25.0, 8.0)
    latency = Figure("y", 100, 10.0, unit="p99_ms", p99_ms=300.0).compared_to(30.0)
    assert latency.ratio == 10.0
    assert Figure("z", 1, 1.0).compared_to(None).ratio is None


def test_percentiles_of_one_to_a_hundred_milliseconds() -> None:
    p50, p95, p99 = percentiles_ms([n / 1000 for n in range(1, 101)])
    assert p50 == pytest.approx(50.5) and p95 == pytest.approx(95.05) and p99 == pytest.approx(99.01)
    assert percentiles_ms([]) == (None, None, None)


def test_json_lines_carry_the_required_keys(capsys: pytest.CaptureFixture[str]) -> None:
    load = Latencies(seconds=[0.01, 0.02, 0.03], sent=4, errors=1, elapsed_s=2.0, statuses={"200": 3, "503": 1})
    figure = load.figure("search").compared_to(1.0)
    emit("t", [figure], as_json=True, notes=["n"], facts={"count": 3})
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["name"] for line in lines] == ["machine", "search", "facts", "note"]
    row = lines[1]
    assert {"name", "n", "seconds", "rate", "baseline", "ratio", "p50_ms", "p95_ms", "p99_ms", "errors"} <= row.keys()
    assert (row["n"], row["errors"], row["rate"], row["ratio"]) == (4, 1, 2.0, 2.0)
    assert "503" in row["note"]
