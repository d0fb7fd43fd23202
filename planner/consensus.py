"""What the rollouts agree on when their endings all differ: content words, names and
numbers that most of them share, and the shape of the unit (length, question, list, end of
the reply). Measured from the rollouts' texts alone; no model call.

Words are lower-cased runs of letters, digits, apostrophes and hyphens, less a short list of
English function words; a word counts once per ending.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Sequence

from planner.plan_snapshot import Consensus, ConsensusTerm

SHARE = 0.5  # a term is consensus when at least this share of the reached endings has it
_WORD = re.compile(r"[^\W_](?:[\w'-]*[^\W_])?")
_LIST_ITEM = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s", re.MULTILINE)
STOPWORDS = frozenset(
    {
        "a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any", "are",
        "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but",
        "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for",
        "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "herself",
        "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself",
        "just", "let", "me", "more", "most", "my", "myself", "no", "nor", "not", "now", "of", "off",
        "on", "once", "only", "or", "other", "our", "ours", "ourselves", "out", "over", "own",
        "same", "she", "should", "so", "some", "such", "than", "that", "the", "their", "theirs",
        "them", "themselves", "then", "there", "these", "they", "this", "those", "through", "to",
        "too", "under", "until", "up", "very", "was", "we", "were", "what", "when", "where",
        "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours",
        "yourself", "yourselves", "it's", "i'm", "i'll", "i've", "don't", "can't", "won't", "isn't",
        "that's", "there's", "let's", "also", "one", "s", "t",
    }
)  # fmt: skip


def terms(text: str) -> set[str]:
    """The content words of a text (lower case, function words left out)."""
    return {w.lower() for w in _WORD.findall(text)} - STOPWORDS


def _kind(term: str, texts: Sequence[str]) -> str:
    if any(ch.isdigit() for ch in term):
        return "number"
    # a name: written capitalised wherever it occurs, other than as an ending's first word
    seen = [
        m.group(0)
        for t in texts
        for i, m in enumerate(_WORD.finditer(t))
        if m.group(0).lower() == term and i > 0
    ]
    return "name" if seen and all(w[0].isupper() for w in seen) else "word"


def consensus(
    texts: Sequence[str], ends_reply: Sequence[bool], share: float = SHARE
) -> Consensus | None:
    """The consensus of the reached endings (None if none reached)."""
    if not texts:
        return None
    n = len(texts)
    counts = Counter(t for text in texts for t in terms(text))
    found = sorted(
        ((t, c / n) for t, c in counts.items() if c / n >= share), key=lambda x: (-x[1], x[0])
    )
    return Consensus(
        share=share,
        terms=[ConsensusTerm(term=t, share=s, kind=_kind(t, texts)) for t, s in found],
        median_words=float(statistics.median(len(_WORD.findall(t)) for t in texts)),
        ends_reply_share=sum(ends_reply) / n,
        question_share=sum(t.rstrip().endswith("?") for t in texts) / n,
        list_share=sum(bool(_LIST_ITEM.search(t)) for t in texts) / n,
    )


def recall(consensus_terms: Sequence[str], text: str) -> float | None:
    """Share of the consensus terms that appear in ``text`` (None without terms)."""
    if not consensus_terms:
        return None
    found = terms(text)
    return sum(t in found for t in consensus_terms) / len(consensus_terms)


def base_rate(consensus_terms: Sequence[str], pool: Sequence[str] | None) -> float | None:
    """The same recall in the endings of other texts, on average: the climatology baseline."""
    if not consensus_terms or not pool:
        return None
    values = [recall(consensus_terms, t) or 0.0 for t in pool]
    return sum(values) / len(values)
