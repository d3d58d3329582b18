"""Pinned training inputs of newsflow's compact NER pipelines (one entry per language).

Every input is a file of a public GitHub repository at a fixed commit, with its
sha256, so ``make ner-models`` rebuilds the same corpus. Only *training*
splits are listed: the development halves in ``../shared/data/external`` and
every dev/test split of these sets are never read for training.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SOURCES", "Source"]


@dataclass(frozen=True)
class Source:
    """One IOB file: ``fmt`` is ``wikiann`` (``xx:token<TAB>tag``), ``tsv`` (``token<TAB>tag``),
    ``space`` (``token tag``; without sentence breaks it is split at sentence-final tokens) or ``uner``
    (Universal NER's ``.iob2``: ``index<TAB>word<TAB>tag<TAB>...``, Universal Dependencies' words),
    ``hipe`` (CLEF-HIPE-2020's TSV: ``TOKEN<TAB>NE-COARSE-LIT<TAB>...``, documents and segments in comments) or
    ``smartdata`` (the DFKI SmartData corpus: Avro JSON documents with character spans, gzipped)."""

    repo: str
    commit: str
    path: str
    sha256: str
    fmt: str
    licence: str

    @property
    def url(self) -> str:
        return f"https://raw.githubusercontent.com/{self.repo}/{self.commit}/{self.path}"


_WIKIANN = "davidsbatista/NER-datasets"
_WIKIANN_AT = "db7ff3ca4ba1df39907f8bdc036a556fed5ecde7"
_ENP = "EuropeanaNewspapers/ner-corpora"
_ENP_AT = "6bf838d23112c255fd81431b1187ab30ef6c2d90"
_KIND = "dhfbk/KIND"
_KIND_AT = "a2ad139171ef7fde0dff0f8ea94d18356340ada9"
_AQMAR = "HussamHallak/AQMAR-Arabic-NERC-Dataset"
_AQMAR_AT = "02afd80a2c645b52e66d00e162cc5d652cbe6ef5"
_AQMAR_LICENCE = "AQMAR Arabic Wikipedia NER corpus (Mohit et al. 2012): CC BY-SA 3.0"
# the 28 annotated articles of AQMAR (it has no official split; all are used)
_AQMAR_ARTICLES = (
    ("Atom.txt", "f6c2aa13bb55177f9eada502102b2d19fb493210bc8757ff34b38f66520705ab"),
    ("Christiano_Ronaldo.txt", "189355da6ea5aee9917fde22e4fee8a8e8eda874096fcb25e31ac2ebc0d3316c"),
    ("Computer.txt", "1f4010d40e99eb92c11f5a6baff33e3f72411253c31c6c3fb7864526f1a67f07"),
    ("Computer_Software.txt", "9bb4e1420396568515f6a4f72dd0394416acbc114b7b107f1ad03a64b6ffeb18"),
    ("Crusades.txt", "5ccefacdb560783223c1d2c9040ee847c2f152ef107b3f65d99d7914570100d9"),
    ("Damascus.txt", "ceca4da7ae6ac4dd96eabd14bff1f2e69200ccacf76c47a81448cdcec9c8ee65"),
    ("Enrico_Fermi.txt", "e22429380d78ae2a6c46ba7f927a0a42fad1249634785cd0307a52b942f28c38"),
    ("Football.txt", "cdd8e84cdc6e5b263418c68b731c25e01a07aaeaa018c95d16c9c1078909535e"),
    ("Ibn_Tolun_Mosque.txt", "44af109c554bf5085f7698a87d459eeecac3980974eb7e97dcc540588d580973"),
    ("Imam_Hussein_Shrine.txt", "696b8adb27f87010687858d3e0df46515770d5a13aab0104a2a6ac0753a115b4"),
    ("Internet.txt", "b4b6229848b7c99348df13005d38d4456f702268935b1eb5ae43495174550e25"),
    ("Islamic_Golden_Age.txt", "9fa7c5db7e435433556c8d6287a68d44a1b77d96f4e3811792bdd475a3eaf17e"),
    ("Islamic_History.txt", "dc4a1605802b472855feccff9e048d81674d953e4ca1bdeb06e4a88abc159528"),
    ("Light.txt", "85461769826ec4f9152b7a3b05da151b627a3974eb1502e45782253aba27803d"),
    ("Linux.txt", "6345bbd09bd04bb35f666e87cc33fd7b4e517056a6c43daa71810f9b33ac37c5"),
    ("Nuclear_Power.txt", "bb6de33082174d258b1ecbeba58541a5e09de2f3d143b44cfc6f0ce74326469e"),
    ("Periodic_Table.txt", "45ce1419d04d87567656e80a4d9c4349449f72ba0e8972545287fc5cffbdfd07"),
    ("Physics.txt", "4111596063a364b0d267afad00f66cedb2ee5b66a9606b7c3e2f92951a73e555"),
    ("Portugal_football_team.txt", "791e39e63eeb21e86b1acedb2b8db616593db9a2f9998eab205553ac3298feb5"),
    ("Raul_Gonzales.txt", "00f2bfa6647e9a61c0f354468117e8560fd46c02847b888e2e2499ab8da9874e"),
    ("Razi.txt", "8c20434643c1223825d3713fb02bdfe2d1913cc3a4c4b9e90120b5a7fb9118b3"),
    ("Real_Madrid.txt", "2268574b7e5f04cd5a110bd51e6b8b8ddb7a786c8cad2acb4bb67cd241ac40e5"),
    ("Richard_Stallman.txt", "f6450a922501504101141c56fd889ae9dcf3431382551e3da198326cb5d36c39"),
    ("Soccer_Worldcup.txt", "16779921163a4dd95a9b3c4609382f2235a69e40db868cc3dfde3c22287e7148"),
    ("Solaris.txt", "5fbf29104679b8bf06ce23af85af447b33699988edf650c68733a4cf70425f3c"),
    ("Summer_Olympics2004.txt", "39ca8b87dfde97c282fcd9daf34c9b1fd7a0af897851cc8031908417a720b361"),
    ("Ummaya_Mosque.txt", "c523ed5eb9ba1227803c72464275c20c74c42dceceb97098d9deb024d0bdda98"),
    ("X_window_system.txt", "bd2e08e8fae0441c4c793324847ddcf7d582cdf33c42f44bef06d421443aeaf0"),
)
_UNER_PT = "UniversalNER/UNER_Portuguese-Bosque"
_UNER_PT_AT = "f2c2ad67aed900385fbe5d655af41f439c9b3333"
_UNER_LICENCE = (
    "Universal NER v1 (Mayhew et al. 2024) on UD Portuguese-Bosque (news: CETEMPublico, CETENFolha): CC BY-SA 4.0"
)
_ANER = "manelAffi/Random-Bi-GRU-CRF-for-ANER-Task-AnerCorp"
_ANER_AT = "f5a57e9e7c443bc95609bebb9babe74188fedbd5"
_ANER_LICENCE = "ANERcorp (Benajiba et al. 2007), CAMeL Lab train split (Obeid et al. 2020): CC BY-SA 4.0"
_SMARTDATA = "DFKI-NLP/smartdata-corpus"
_SMARTDATA_AT = "796c8b8f5d76fcdeb7f2458c4f8df5711e2115af"
_SMARTDATA_LICENCE = "DFKI SmartData corpus v1 train split (Schiersch et al. 2018; German news, RSS, tweets): CC BY 4.0"
_HIPE = "impresso/CLEF-HIPE-2020"
_HIPE_AT = "05e1f5eb63ca39b96d9acd37b844ee41d1a05b5a"
_HIPE_LICENCE = (
    "CLEF-HIPE-2020 French train split v0.9 (Ehrmann et al. 2020; Swiss and Luxembourg newspapers 1798-2018, OCR): "
    "CC BY-NC-SA 4.0"
)
_WIKIANN_LICENCE = "WikiANN (Pan et al. 2017, Rahimi et al. 2019 train split): Wikipedia text, CC BY-SA 3.0"
_ENP_LICENCE = "Europeana Newspapers NER corpora: CC0 1.0"

SOURCES: dict[str, list[Source]] = {}


def _wikiann(path: str, sha256: str) -> Source:
    return Source(_WIKIANN, _WIKIANN_AT, path, sha256, "wikiann", _WIKIANN_LICENCE)


def _enp(path: str, sha256: str) -> Source:
    return Source(_ENP, _ENP_AT, path, sha256, "space", _ENP_LICENCE)


SOURCES.update(
    {
        "de": [
            _wikiann("WikiANN/de/train", "3ce85fb69bf38dc62dae27e08884ed951424d2c8955636f11ad137b07fd9968d"),
            _enp("enp_DE.lft.bio/enp_DE.lft.bio", "762c394ff09728e014bfe44e4fc38c0fc511e4e119a94c23be2b4034dc9a4d9b"),
            _enp("enp_DE.onb.bio/enp_DE.onb.bio", "479b0862870391cffb6f53f556e4f6160120eeb19a66421f67fe99c0b4ba6bf7"),
            _enp("enp_DE.sbb.bio/enp_DE.sbb.bio", "6cc234c43dc4f6539feddc339f119bf6afb24c4981ab9eb46cbebd9cb06af3d7"),
            Source(
                _SMARTDATA,
                _SMARTDATA_AT,
                "v1_20180119/train.json.gz",
                "97e4550fd45a7b7d6b624694016df17608e677647beeee5684d91b9e88fb0f04",
                "smartdata",
                _SMARTDATA_LICENCE,
            ),
        ],
        "nl": [
            _wikiann("WikiANN/nl/train", "a3e020d205dc36a1b0e3a66e42c26306fee8cdff052b1c1e3860d070b8c71b79"),
            _enp("enp_NL.kb.bio/enp_NL.kb.bio", "0928f045ae3de9d5d85dbba4d50f206633b924eb3897783575d4581631d22674"),
        ],
        "fr": [
            _wikiann("WikiANN/fr/train", "2acc675a8521d9e49da87ad17de158bc8860f227559d71a766ffea253ebcee3a"),
            _enp("enp_FR.bnf.bio/enp_FR.bnf.bio", "730402f0f21c4d538b93a969a8eeedbec37edc49d2133cd18a26b925d93b0961"),
            Source(
                _HIPE,
                _HIPE_AT,
                "data/training-v0.9/fr/HIPE-data-v0.9-train-fr.tsv",
                "fcab65ac5ec241b452313fa8857c3cb48265e4f4b5830a5e40339c7e46c47fe0",
                "hipe",
                _HIPE_LICENCE,
            ),
        ],
        "pt": [
            _wikiann("Portuguese/WikiANN/train", "373a48751ec64a10d384da3b7b942203f60757d14d3ee945847c44bbaad45ba3"),
            Source(
                _UNER_PT,
                _UNER_PT_AT,
                "pt_bosque-ud-train.iob2",
                "1d8762040667fc15f4ec83801e20d14d10ebea2b90c16c312f3ba03da2d1f860",
                "uner",
                _UNER_LICENCE,
            ),
        ],
        "it": [
            Source(
                _KIND,
                _KIND_AT,
                "evalita-2023/WN_train.tsv",
                "879e468c0c2e387e628e7a92c3ab6b3947fe247d946505c43e15f5747873a2e6",
                "tsv",
                "KIND Wikinews (NERMuD 2023 train split): text CC BY 2.5 (Wikinews), annotations CC BY-NC 4.0",
            ),
        ],
        "ar": [
            *(
                Source(_AQMAR, _AQMAR_AT, f"aqmar/articles/{name}", sha, "space", _AQMAR_LICENCE)
                for name, sha in _AQMAR_ARTICLES
            ),
            Source(
                _ANER,
                _ANER_AT,
                "Data/ANERCorp_CamelLab_train.txt",
                "393969ce6f24f1acca1b3321b401e0b4fae135610c606dbeb4bf141d7dfde053",
                "space",
                _ANER_LICENCE,
            ),
        ],
    }
)
