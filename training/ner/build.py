"""Rebuild one shipped NER pipeline: ``python -m training.ner.build LANG [--work DIR] [--cache DIR]``.

Prepares the corpus from the pinned inputs (:mod:`training.ner.prepare`, which
downloads them: network needed), trains ``training/ner/config.cfg`` on CPU
(``spacy train``, bounded by ``training.max_steps``; about 10-25 minutes on
one shared core), and copies the best pipeline (by the held-out 5 % of the
training data) to ``services/enrich/models/newsflow_ner_<lang>/`` with its
data sources and licences written into ``meta.json``.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from .prepare import main as prepare
from .sources import SOURCES

__all__ = ["MODELS_DIR", "main", "package"]

ROOT = Path(__file__).resolve().parents[2]
MODELS_DIR = ROOT / "services" / "enrich" / "models"
CONFIG = Path(__file__).resolve().parent / "config.cfg"
VERSION = "1.0.0"
#: training steps of the shipped pipelines (config.cfg's max_steps otherwise): what the shared machine allowed
STEPS = {"it": 3000, "nl": 3000, "de": 3000, "pt": 3000, "ar": 3000, "fr": 3000}


def package(lang: str, trained: Path, dest_root: Path = MODELS_DIR) -> Path:
    """Copy ``trained`` (a ``model-best`` directory) to ``dest_root/newsflow_ner_<lang>`` with its meta."""
    dest = dest_root / f"newsflow_ner_{lang}"
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(trained, dest)
    config = dest / "config.cfg"  # the training paths were this machine's: not part of the model
    config.write_text(re.sub(r"^(train|dev) = .*$", r"\1 = null", config.read_text(encoding="utf-8"), flags=re.M))
    meta_path = dest / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    sources = SOURCES[lang]
    meta.update(
        {
            "name": f"newsflow_ner_{lang}",
            "version": VERSION,
            "description": "newsflow compact NER (PER, ORG, LOC, MISC): one CNN tok2vec + transition NER, CPU",
            "author": "newsflow (make ner-models)",
            "license": "; ".join(sorted({s.licence for s in sources})),
            "sources": [{"url": s.url, "sha256": s.sha256, "licence": s.licence} for s in sources],
        }
    )
    meta_path.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lang", choices=sorted(SOURCES))
    parser.add_argument("--work", type=Path, default=ROOT / ".ner-work", help="corpora and training output")
    parser.add_argument("--cache", type=Path, default=ROOT / ".ner-work" / "cache", help="downloaded inputs")
    args = parser.parse_args(argv)
    corpus = args.work / args.lang
    prepare([args.lang, str(corpus), "--cache", str(args.cache)])
    out = corpus / "out"
    subprocess.run(
        [
            sys.executable, "-m", "spacy", "train", str(CONFIG), "--output", str(out),
            "--paths.train", str(corpus / "train.spacy"), "--paths.dev", str(corpus / "heldout.spacy"),
            "--nlp.lang", args.lang, "--training.max_steps", str(STEPS.get(args.lang, 1500)),
        ],
        check=True,
    )  # fmt: skip
    dest = package(args.lang, out / "model-best")
    print(f"{args.lang}: {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
