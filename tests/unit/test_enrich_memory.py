"""What keeps the enrich worker's memory down gives the same answers as what it replaced (bench.memory)."""

from __future__ import annotations

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from services.enrich.enrichers.language import LanguageEnricher
from shared.settings import Settings

TEXTS = [
    "The central bank raised its main interest rate by a quarter point on Thursday.",
    "Le gouvernement a annoncé mardi une réforme des retraites, contestée par les syndicats.",
    "Die Regierung hat am Dienstag eine Reform der Renten angekündigt.",
    "El presidente del gobierno se reunió con los líderes de la oposición en Madrid.",
    "Премьер-министр встретился с лидерами оппозиции.",
    "Barcelona 4 3 1 0 10 3 10",
]


def test_language_identifier_holds_only_the_candidates_and_answers_as_set_languages() -> None:
    enricher = LanguageEnricher(Settings())
    stock = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    stock.set_languages(enricher.candidates)
    ours = enricher._identifier
    assert ours.nb_classes == stock.nb_classes
    assert ours.nb_ptc.shape == (stock.nb_ptc.shape[0], len(set(enricher.candidates)))
    assert ours._full_model[0].shape == ours.nb_ptc.shape  # the 142-language matrix is not kept
    for text in TEXTS:
        assert ours.rank(text) == stock.rank(text)
        assert ours.classify(text) == stock.classify(text)
