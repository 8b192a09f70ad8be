"""Claims that a check against the papers or the data found false, and that a later rewrite of a
lesson could bring back: each phrase below was once in a lesson's prose, was shown wrong (the
reason is beside it), and must not return. A rewrite that needs the idea states it in the
corrected form, which these phrases do not match. The check is on the lesson's markdown and cell
metadata (captions, alt text), case-insensitive, with runs of whitespace folded."""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

REFUTED = {
    "01_the_puzzle": [
        ("shrink $1 - q$ by about that factor",
         "a step's shortfall is <actual, predicted>/|predicted|^2, not the loss decrease along the "
         "residual; one step at m = 16 varies from 0.03 to 0.52 by seed"),
    ],
    "02_setup": [
        ("a few inputs did flip, but their",
         "at eta = 0.3, 16 of net 0's 20 inputs flip; only about 3 of those err too little to see"),
    ],
    "04_gradient_flow": [
        ("at $r$ the bound exceeds $1$: our $c = 1$",
         "c = 1 > 0.157 only means nothing keeps the bound below 1; each may-flip pair adds 0.92"),
    ],
    "06_figure1": [
        ("all of them are pushed off, and $x_i$ dies",
         "the other inputs' terms can hold a neuron on: 6 of 16 such inputs at m = 8 never die"),
        ("only seed 2 trains", "seed 1 at m = 8 also passes the trainability test"),
    ],
    "07_both_layers": [
        ("gap between the two rates compounds",
         "the tail rates compound to 2 over their 50 steps; the factor 5 includes steps 0-50"),
    ],
    "08_linearization": [
        ("which rests on the same signs",
         "step 3's signs are the a_r's; the drift's heuristic is about on/off signs of the flips"),
        ("(a third at $\\varepsilon = 0.1$)",
         "measured, the output-weight term is about 0.6 of the flip gap at eps = 0.1"),
    ],
    "09_lazy_vs_active": [
        ("cancel less than independent signs would. why",
         "the per-input count shows no trend; random flips would make the drift fall more slowly"),
        ("artificial $+1 - 1$",
         "a centred pair starts in one state at every input: +1 - 1 from it is impossible at any "
         "time; what its first flip rules out is both neurons flipping (a correlated +-2)"),
    ],
    "10_deep_forward_stability": [
        ("as the log's next terms predict",
         "the (1 + 4/m) correction predicts the larger excess at m = 32; the table has it at 64"),
    ],
    "11_gradient_bound_semismoothness": [
        ("$h$ and $b$ move little (chapter 10)",
         "chapter 10 bounds only the norm of b; its move is Allen-Zhu et al.'s backward perturbation"),
    ],
    "12_deep_convergence": [
        ("a wider network's own $\\eta m$ is larger",
         "each width's own eta*m is flat in m (0.20 to 0.24) while the step counts fall"),
    ],
    "14_gd_vs_sgd": [
        ("the decrease per step, grows with $m$",
         "Lemma 5.4's step is proportional to 1/m: the decrease per unit time grows with m"),
    ],
}


def _text(name: str) -> str:
    """The lesson's markdown and cell metadata, with its checks page's (a claim may move there)."""
    pages = [ROOT / "lessons" / f"{name}.ipynb", ROOT / "lessons" / "checks" / f"{name}_checks.ipynb"]
    cells = [c for p in pages if p.is_file() for c in json.loads(p.read_text())["cells"]]
    parts = []
    for cell in cells:
        if cell["cell_type"] == "markdown":
            parts.append("".join(cell["source"]))
        parts.append(json.dumps(cell.get("metadata", {}), ensure_ascii=False))
    return re.sub(r"\s+", " ", " ".join(parts)).lower()


def _fold(phrase: str) -> str:
    return re.sub(r"\s+", " ", phrase).lower()


@pytest.mark.parametrize("name", sorted(REFUTED))
def test_no_refuted_claim_returns(name):
    text = _text(name)
    back = [f"{phrase!r}: {why}" for phrase, why in REFUTED[name] if _fold(phrase) in text]
    assert not back, f"lessons/{name} (or its checks page) states a claim found false: " + "; ".join(back)


def test_the_check_catches_a_returned_claim(tmp_path, monkeypatch):
    lesson = tmp_path / "lessons"
    lesson.mkdir()
    nb = {"cells": [{"cell_type": "markdown", "metadata": {},
                     "source": ["The kernel drift, which rests on\n", "the same signs, meets it."]}]}
    (lesson / "08_linearization.ipynb").write_text(json.dumps(nb))
    monkeypatch.setattr(__import__(__name__), "ROOT", tmp_path)
    with pytest.raises(AssertionError, match="rests on the same signs"):
        test_no_refuted_claim_returns("08_linearization")
    (lesson / "08_linearization.ipynb").write_text(json.dumps({"cells": []}))
    test_no_refuted_claim_returns("08_linearization")
    (lesson / "checks").mkdir()
    (lesson / "checks" / "08_linearization_checks.ipynb").write_text(json.dumps(nb))
    with pytest.raises(AssertionError, match="rests on the same signs"):
        test_no_refuted_claim_returns("08_linearization")
