"""Builds the licence-clean spaCy pipeline the NLU config loads (`models/spacy-es-en`).

`spacy.blank("es")` (MIT) for the tokenizer, plus a lookup lemmatizer whose table merges
spaCy's Spanish and English lemma lookups (spacy-lookups-data, MIT): customers write in
either language, and the Spanish form wins where both languages spell a word the same.
No GPL model (es_core_news_sm) and nothing downloaded at run time.
"""

import sys
from pathlib import Path

import spacy
from spacy.lookups import Lookups, load_lookups


def build(target: Path, languages=("en", "es")) -> None:
    """A blank pipeline for the last language, with the lemma tables of all of them (the
    later wins on clashes). The benchmarks build an English-only one the same way."""
    merged = Lookups()
    table = merged.add_table("lemma_lookup")
    for lang in languages:
        for key, value in load_lookups(lang, ["lemma_lookup"]).get_table("lemma_lookup").items():
            table[key] = value
    nlp = spacy.blank(languages[-1])
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"}).initialize(lookups=merged)
    nlp.meta["name"] = "posta_" + "_".join(languages) + "_blank"
    nlp.meta["license"] = "MIT"
    target.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(target)
    probe = [t.lemma_ for t in nlp("quiero unos lentes nuevos, the glasses broke")]
    print(f"built {target}: {probe}")


if __name__ == "__main__":
    build(Path(sys.argv[1] if len(sys.argv) > 1 else "models/spacy-es-en"), tuple(sys.argv[2:]) or ("en", "es"))
