"""``luke_squad``: extractive QA (SQuAD 1.1) with LUKE, entities from a Wikipedia link database.

The ``extractive_qa`` task's SQuAD reader, windows (``--max-length``, ``--max-query-length``,
``--doc-stride``), n-best decoding and official scores, with LUKE's word + entity input: mentions in
the question and the context are found from the links of the paragraph's Wikipedia article
(``--wiki-link-db-file``, built by ``scripts/build_wiki_link_db.py``; see ``data/luke_squad.py``),
article titles go through ``--link-redirects-file`` and the database's redirects, link targets
through ``--model-redirects-file`` to the entity vocabulary of ``--vocab-dir``. Without a link
database the model reads words only. Head: a linear to start/end logits over the word states
(Hugging Face's ``LukeForQuestionAnswering``); loss: the mean of the start and end cross-entropies.
"""
import logging
from dataclasses import dataclass, field
from itertools import groupby
from typing import Dict, Optional

import numpy as np
from fairseq.dataclass import ChoiceEnum
from fairseq.tasks import FairseqTask, register_task

from ..data.luke_entity_vocab import MASK
from ..data.luke_squad import (EntityWindowDataset, MentionStats, attach_entities, detect_mentions, entity_lookup,
                               title_of)
from ..data.squad_dataset import QaWindowDataset
from ..data.squad_windows import context_offsets
from ..data.wiki_link_db import WikiLinkDB, read_redirects
from ..errors import InputError
from ..models.extractive_qa import SpanHead
from ._luke_vocab import LukeVocabTask, folder_tokenizer
from .extractive_qa import ExtractiveQaConfig, ExtractiveQaTask
from .luke_record import share_token_type

logger = logging.getLogger(__name__)

HEAD = "luke_squad"


@dataclass
class LukeSquadConfig(ExtractiveQaConfig):
    vocab_dir: str = field(default="", metadata={
        "help": "converted LUKE model folder: dict.txt, tokenizer files, entity vocabulary (replaces --vocab)"})
    max_length: int = field(default=512, metadata={"help": "tokens per window (LUKE's max_seq_length)"})
    wiki_link_db_file: Optional[str] = field(default=None, metadata={
        "help": "link database of scripts/build_wiki_link_db.py (the seed's enwiki_20160305.pkl); none: no entities"})
    model_redirects_file: Optional[str] = field(default=None, metadata={
        "help": "source<TAB>target redirects from link targets to the entity vocabulary's titles (the seed's "
                "enwiki_20181220_redirects.pkl)"})
    link_redirects_file: Optional[str] = field(default=None, metadata={
        "help": "source<TAB>target redirects from SQuAD titles to the link database's (the seed's "
                "enwiki_20160305_redirects.pkl); the database's own redirects always apply"})
    min_mention_link_prob: float = field(default=0.01, metadata={"help": "anchors linked less often are no mentions"})
    max_mention_length: int = field(default=30, metadata={"help": "longest mention, in tokens"})
    entity_not_in_vocab: ChoiceEnum(["unk", "mask", "drop"]) = field(default="unk", metadata={
        "help": "entity of a mention whose target the entity vocabulary lacks: [UNK], [MASK], or no entity "
                "(LUKE's run drops it)"})


class _SpanOutputs:
    """A LUKE model called as ``extractive_qa`` models are: ``{"start", "end"}`` logits from its span head."""

    def __init__(self, model):
        self.model = model

    def eval(self):
        self.model.eval()
        return self

    def __call__(self, **net_input):
        return span_logits(self.model, net_input)


def span_logits(model, net_input):
    features, _ = model(**net_input, features_only=True)
    return model.entity_heads[HEAD](features, net_input["src_tokens"].eq(model.encoder.dictionary.pad()))


@register_task("luke_squad", dataclass=LukeSquadConfig)
class LukeSquadTask(ExtractiveQaTask):
    def __init__(self, cfg: LukeSquadConfig, tokenizer, dictionary, entity_vocab):
        super().__init__(cfg, tokenizer)
        self.dictionary = dictionary  # dict.txt: also holds tokens added to the tokenizer's (<ent>, <ent2>)
        self.entity_vocab = entity_vocab
        # RoBERTa's LUKE reads <s> q </s></s> c </s> with one token type (--pair-layout auto finds it)
        self.passage_segment = 0 if self.roberta_layout else 1
        self.link_db = WikiLinkDB(cfg.wiki_link_db_file) if cfg.wiki_link_db_file else None
        self.link_redirects = read_redirects(cfg.link_redirects_file) if cfg.link_redirects_file else {}
        self.model_redirects = read_redirects(cfg.model_redirects_file) if cfg.model_redirects_file else {}
        self._candidates: Dict[str, tuple] = {}
        if self.link_db is None:
            logger.warning("no --wiki-link-db-file: the model reads words only, without entities")

    @classmethod
    def setup_task(cls, cfg, **kwargs):
        dictionary, entity_vocab = LukeVocabTask.load_vocabs(cfg)
        tokenizer, _ = folder_tokenizer(cfg.vocab_dir)
        return cls(cfg, tokenizer, dictionary, entity_vocab)

    def article_candidates(self, squad_title: str, stats: MentionStats) -> Dict[str, str]:
        """Mention candidates of the paragraph's article (cached); counted once per article and data set."""
        if self.link_db is None:
            return {}
        if squad_title not in self._candidates:
            title = self.link_db.resolve(title_of(squad_title), self.link_redirects)
            if self.link_db.has_article(title):
                self._candidates[squad_title] = (*self.link_db.candidates(title, self.cfg.min_mention_link_prob), True)
            else:
                logger.debug("not in the link database: %s", title)
                self._candidates[squad_title] = ({}, 0, False)
        candidates, ambiguous, found = self._candidates[squad_title]
        if squad_title not in stats.articles:
            stats.articles.add(squad_title)
            stats.articles_missing += not found
            stats.ambiguous_names += ambiguous
        return candidates

    def load_examples(self, split, examples, name):
        dataset = super().load_examples(split, examples, name)
        windows = (dataset.examples if isinstance(dataset, QaWindowDataset)
                   else [w for question in dataset.examples for w in question.windows])
        stats = MentionStats()
        lookup = entity_lookup(self.entity_vocab, self.model_redirects, str(self.cfg.entity_not_in_vocab), stats)

        def mentions(example, text, offsets):
            found = detect_mentions(text, offsets, self.article_candidates(example.title, stats),
                                    self.cfg.max_mention_length)
            stats.mentions += len(found)
            return [(first, last, entity) for first, last, title in found
                    for entity in [lookup(title)] if entity is not None]

        context_mentions = {}  # per paragraph, on the context tokens the windows hold
        for question, group in groupby(windows, key=lambda w: w.example):
            example = examples[question]
            if example.paragraph not in context_mentions:
                context_mentions[example.paragraph] = mentions(example, example.context, context_offsets(list(group)))
        stats.paragraphs = len(context_mentions)
        questions = self.tokenizer.encode_with_offsets([e.question for e in examples])
        question_mentions = [mentions(e, e.question, np.asarray(q.offsets, dtype=np.int64).reshape(-1, 2))
                             for e, q in zip(examples, questions)]
        attach_entities(examples, windows, question_mentions, context_mentions, self.cfg.max_mention_length, stats)
        logger.info("%s: %s", name, stats.summary())
        self.datasets[split] = EntityWindowDataset(dataset, self.entity_vocab.pad, self.cfg.max_mention_length,
                                                   self.passage_segment)
        return self.datasets[split]

    def build_model(self, cfg, from_checkpoint=False):
        model = FairseqTask.build_model(self, cfg, from_checkpoint)
        if MASK not in self.entity_vocab:
            raise InputError(self.entity_vocab.source, "no [MASK] entity")
        model.register_entity_head(HEAD, SpanHead(cfg.encoder_embed_dim, cfg.pooler_dropout))
        share_token_type(self, cfg)
        return model

    def valid_step(self, sample, model, criterion):
        return super().valid_step(sample, _SpanOutputs(model) if "qa" in sample else model, criterion)

    def predict(self, models, weights, examples, batch_size=32, device="cpu", progress=None):
        return super().predict([_SpanOutputs(m) for m in models], weights, examples, batch_size, device, progress)

    def max_positions(self):
        return self.cfg.max_length

