"""BIO token tagging: the three readers, nested flattening, tokenizer offsets and first-sub-token
alignment, windows, the entity metric on a hand-computed case, bad input, and training through the CLI."""
import json

import pytest
import torch

import cli_utils
from fairseq_plugins.data.tagging import (
    bio_tags, entity_counts, flatten_nested, read_conll_tagged, read_lear_tagged, read_uer_ner_tsv, ReadStats,
    tags_to_char_spans)
from fairseq_plugins.data.tagging_inputs import IGNORE, TaggingDataset, assemble, featurize, first_subtokens
from fairseq_plugins.errors import InputError
from fairseq_plugins.metrics.seqeval import entity_f1
from fairseq_plugins.tokenization import build_tokenizer
from lear_fixtures import entity, minilm_vocab, write_jsonl
from shared_data import SHARED_DATA

MSRA = SHARED_DATA / "uer" / "test_data" / "msra_ner"
TAGS = ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]


@pytest.fixture(scope="module")
def bert():
    return build_tokenizer("bert", minilm_vocab())


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


# ---- readers and bad input ----------------------------------------------------------------------------

def test_uer_tsv_reads_tags_and_names_bad_lines(tmp_path):
    good = write(tmp_path / "a.tsv", "text_a\tlabel\n张 三 在 北 京\tB-PER I-PER O B-LOC I-LOC\n")
    (example,) = read_uer_ner_tsv(good, TAGS)
    assert example.text == "张 三 在 北 京" and example.units[3] == (6, 7) and example.line == 2
    assert tags_to_char_spans(example.units, example.tags) == [(0, 3, "PER"), (6, 9, "LOC")]
    assert read_uer_ner_tsv(write(tmp_path / "n.tsv", "text_a\n北 京\n"), TAGS, labels_required=False)[0].tags is None

    cases = [("text_a\tlabel\n北 京\tB-LOC\n", 2, "label", "1 tags for 2 tokens"),
             ("text_a\tlabel\nok\tO\n北 京\tB-LOC I-CITY\n", 3, "label", "'I-CITY'"),
             ("北 京\tB-LOC I-LOC\n", 1, "header", "header row missing"),
             ("text_a\tlabel\n北 京\n", 2, "columns", "1 tab-separated columns")]
    for i, (content, line, field, message) in enumerate(cases):
        with pytest.raises(InputError, match=message) as info:
            read_uer_ner_tsv(write(tmp_path / f"bad{i}.tsv", content), TAGS)
        assert (info.value.path, info.value.line, info.value.field) == (str(tmp_path / f"bad{i}.tsv"), line, field)


def test_conll_iob1_and_iob2_give_the_same_iob2_tags(tmp_path):
    iob1 = write(tmp_path / "iob1.txt", "-DOCSTART- -X- O O\n\nJohn NNP I-NP I-PER\nMary NNP I-NP B-PER\n"
                                        "in IN O O\nParis NNP I-NP I-LOC\n\n")
    iob2 = write(tmp_path / "iob2.txt", "John NNP I-NP B-PER\nMary NNP I-NP B-PER\nin IN O O\nParis NNP I-NP B-LOC\n")
    tags = bio_tags(["LOC", "PER"])
    for path, scheme in ((iob1, "iob1"), (iob2, "iob2")):
        (sentence,) = read_conll_tagged(path, scheme, tags)
        assert sentence.text == "John Mary in Paris" and sentence.tags == ["B-PER", "B-PER", "O", "B-LOC"]
    with pytest.raises(InputError, match="'MISC'") as info:
        read_conll_tagged(write(tmp_path / "m.txt", "x X O B-MISC\n"), "iob2", tags)
    assert (info.value.line, info.value.field) == (1, "tag")


def test_lear_spans_flatten_to_the_outermost_and_count_what_is_dropped(tmp_path):
    assert flatten_nested([(0, 9, "A"), (2, 5, "B"), (4, 12, "C"), (10, 12, "D"), (2, 5, "B")]) == (
        [(0, 9, "A"), (10, 12, "D")], 1, 1)
    text = "the Australian government signed with Chinamen"
    rows = [{"text": text, "entities": [entity(text, "the Australian government", "GPE"),
                                        entity(text, "Australian", "GPE"),  # nested: dropped from the tags
                                        entity(text, "government signed", "ORG"),  # crossing: dropped
                                        entity(text, "China", "GPE")]}]  # inside a word: cannot be tagged
    stats = ReadStats()
    (example,) = read_lear_tagged(write_jsonl(tmp_path / "a.json", rows), bio_tags(["GPE", "ORG"]), stats)
    assert example.tags == ["B-GPE", "I-GPE", "I-GPE", "O", "O", "O"]
    assert (stats.entities, stats.nested, stats.crossing, stats.unaligned) == (4, 1, 1, 1)
    # Scoring is against every gold entity: the perfect BIO output finds 1 of 4.
    counts = entity_counts([example], [example.tags])
    assert (counts.true_positives, counts.predicted, counts.gold) == (1, 1, 4)
    with pytest.raises(InputError, match="not in the label map") as info:
        read_lear_tagged(write_jsonl(tmp_path / "b.json", rows), bio_tags(["ORG"]))
    assert info.value.field == "entities[0].label"


# ---- tokenizer offsets and alignment --------------------------------------------------------------------

def test_offsets_api_spans_the_original_text(bert, tmp_path):
    text = "Héllo  Xinhua-News, 北京!"
    ids, offsets = bert.encode_with_offsets([text])[0]
    assert ids == bert.encode_batch([text])[0]
    assert [text[s:e] for s, e in offsets] == ["Héllo", "Xi", "nh", "ua", "-", "News", ",", "北", "京", "!"]
    vocab = write(tmp_path / "v.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n北\nab\n")
    for kind, pieces in (("char", ["北", "A", "B", "京"]), ("space", ["北", "AB", "京"])):
        tokenizer = build_tokenizer(kind, vocab, lowercase=True)
        text = " 北 AB  京"
        ids, offsets = tokenizer.encode_with_offsets([text])[0]
        assert ids == tokenizer.encode_batch([text])[0] and [text[s:e] for s, e in offsets] == pieces


def test_first_subtoken_carries_the_tag_and_windows_reassemble(bert):
    text = "Jierong Zhou visited Xinhua"
    units = [(0, 7), (8, 12), (13, 20), (21, 27)]
    ids, offsets = bert.encode_with_offsets([text])[0]
    first = first_subtokens(units, offsets)
    pieces = [bert.dictionary[i] for i in ids]
    assert [u for u in first if u >= 0] == [0, 1, 2, 3]
    assert [pieces[p] for p, u in enumerate(first) if u >= 0] == ["ji", "zhou", "visited", "xi"]
    from fairseq_plugins.data.tagging import TaggedText
    example = TaggedText(text, units, ["B-PER", "I-PER", "O", "B-LOC"])
    tag_to_id = {t: i for i, t in enumerate(TAGS)}
    for max_length, n_windows in ((64, 1), (4, (len(ids) + 1) // 2)):
        windows, stats = featurize([example], bert, tag_to_id, max_length)
        assert len(windows) == n_windows == stats.windows
        flat_targets = [t for w in windows for t in w.targets[1:-1]]
        assert [TAGS[t] for t in flat_targets if t != IGNORE] == example.tags
        assert flat_targets.count(IGNORE) == len(ids) - 4  # continuation pieces are not trained
        # Predictions read at the first sub-tokens come back as one tag per word, across windows.
        predicted = [[TAGS[t] if t != IGNORE else "B-PER" for t in w.targets] for w in windows]
        assert assemble([example], windows, predicted) == [example.tags]
    batch = TaggingDataset(windows, bert.dictionary.pad()).collater([0, 1])
    assert batch["target"].shape == batch["net_input"]["src_tokens"].shape == batch["units"].shape


def test_entity_metric_on_a_hand_computed_case():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-LOC", "O", "B-PER"]]
    predicted = [["B-PER", "I-PER", "O", "B-PER"], ["I-LOC", "O", "O"]]
    # Gold: PER(0,1) LOC(3) | LOC(0) PER(2) = 4. Predicted: PER(0,1) PER(3) | LOC(0) (I- opens a chunk) = 3.
    # Correct: PER(0,1), LOC(0) = 2 -> P 2/3, R 2/4, F1 2*2/(3+4) = 4/7.
    from fairseq_plugins.data.tagging import TaggedText
    examples = [TaggedText(" ".join("w" * len(g)), [(2 * i, 2 * i + 1) for i in range(len(g))], g) for g in gold]
    counts = entity_counts(examples, predicted)
    assert (counts.true_positives, counts.predicted, counts.gold) == (2, 3, 4)
    assert counts.f1 == pytest.approx(4 / 7) and counts.precision == pytest.approx(2 / 3)
    seqeval = entity_f1(gold, predicted)
    assert (seqeval.true_positives, seqeval.predicted, seqeval.gold) == (2, 3, 4)


# ---- models and the command line --------------------------------------------------------------------------

def test_uer_tagger_learns_a_few_steps_in_process():
    from fairseq_plugins.models.token_tagger import UerTaggerModel
    from fairseq_plugins.models.uer import UerConfig
    from fairseq_plugins.data.vocab_dictionary import VocabDictionary

    dictionary = VocabDictionary(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(20)])
    cfg = UerConfig(embedding="word", encoder="bilstm", emb_size=16, hidden_size=16, layers_num=1, dropout=0.0)
    torch.manual_seed(0)
    model = UerTaggerModel(cfg, dictionary, num_tags=3)
    tokens = torch.randint(5, 25, (8, 10))
    target = tokens % 3  # a tag each token's identity decides
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(30):
        loss = torch.nn.functional.cross_entropy(model(tokens).flatten(0, 1), target.flatten())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses


def test_pretrained_model_path_starts_a_uer_tagger(tmp_path):
    """run_ner's --pretrained_model_path: a UER pre-training checkpoint's body and architecture start the tagger."""
    from omegaconf import OmegaConf
    from fairseq_plugins.conversion.fairseq_checkpoint import save_checkpoint
    from fairseq_plugins.models.uer import UerConfig, UerModel
    from fairseq_plugins.tasks.token_tagging import TokenTaggingConfig, TokenTaggingTask

    vocab = write(tmp_path / "vocab.txt", "\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b"]))
    (tmp_path / "label2id.json").write_text(json.dumps({"O": 0, "B-X": 1, "I-X": 2}))
    pre_cfg = OmegaConf.structured(UerConfig(embedding="word", encoder="bilstm", emb_size=8, hidden_size=8,
                                             layers_num=1, target="bilm"))
    task = TokenTaggingTask.setup_task(TokenTaggingConfig(data=str(tmp_path), data_format="uer_tsv", vocab=str(vocab),
                                                          tokenizer_kind="char"))
    pretrained = UerModel(pre_cfg, task.source_dictionary)
    save_checkpoint(str(tmp_path / "pre.pt"), OmegaConf.create({"model": pre_cfg}), pretrained)

    def build(arch, **task_fields):
        task = TokenTaggingTask.setup_task(TokenTaggingConfig(
            data=str(tmp_path), data_format="uer_tsv", vocab=str(vocab), tokenizer_kind="char",
            pretrained_model_path=str(tmp_path / "pre.pt"), **task_fields))
        cfg = OmegaConf.merge(OmegaConf.structured(UerConfig(encoder="transformer", hidden_size=16)), {"_name": arch})
        return task.build_model(cfg), cfg

    model, cfg = build("uer_tagger")
    assert (cfg.encoder, cfg.hidden_size) == ("bilstm", 8)  # the checkpoint's architecture wins
    for name, tensor in pretrained.body.state_dict().items():
        assert torch.equal(model.body.state_dict()[name], tensor), name
    with pytest.raises(InputError, match="uer_tagger model only"):
        build("token_tagger")


@pytest.mark.skipif(not MSRA.is_dir(), reason="shared UER test data absent")
def test_train_on_msra_ner_then_predict(tmp_path):
    """UER's run_ner data through fairseq-train (loss falls), then run_ner_infer's output and a score."""
    save = tmp_path / "ckpt"
    proc = cli_utils.run_cli([
        cli_utils.BIN / "fairseq-train", MSRA, "--user-dir", cli_utils.USER_DIR, "--cpu", "--task", "token_tagging",
        "--vocab", SHARED_DATA / "uer" / "vocab" / "google_zh_vocab.txt", "--max-length", "64",
        "--arch", "token_tagger_tiny", *cli_utils.MODEL_FLAGS, "--criterion", "token_tagging",
        "--optimizer", "adam", "--lr", "2e-3", "--lr-scheduler", "fixed", "--batch-size", "16",
        "--required-batch-size-multiple", "1", "--max-update", "30", "--seed", "1", "--num-workers", "0",
        "--save-dir", save, "--no-epoch-checkpoints", "--log-format", "json", "--log-interval", "1",
        "--no-progress-bar"], timeout=180)
    losses = [float(r["loss"]) for r in cli_utils.json_logs(proc.stdout, "train_inner")]
    # Measured ~1.9 -> ~0.5 nats per character; a broken head or alignment stays near log(7) = 1.95.
    assert sum(losses[-3:]) / 3 < 0.5 * sum(losses[:3]) / 3, losses
    assert {"valid_f1", "valid_precision", "valid_recall"} <= set(cli_utils.json_logs(proc.stdout, "valid")[-1])

    out = tmp_path / "prediction.tsv"
    cli_utils.run_script("predict_tags", "--checkpoint", save / "checkpoint_last.pt",
                         "--input", MSRA / "test_nolabel.tsv", "--output", out)
    rows = out.read_text(encoding="utf-8").splitlines()
    texts = (MSRA / "test_nolabel.tsv").read_text(encoding="utf-8").splitlines()[1:]
    assert rows[0] == "pred_label" and len(rows) == len(texts) + 1
    assert [len(r.split()) for r in rows[1:]] == [len(t.split()) for t in texts]
    proc = cli_utils.run_script("predict_tags", "--checkpoint", save / "checkpoint_last.pt",
                                "--input", MSRA / "test.tsv", "--output", tmp_path / "scored.tsv")
    scores = json.loads(proc.stdout.strip().splitlines()[-1])
    gold = read_uer_ner_tsv(MSRA / "test.tsv", json.loads((MSRA / "label2id.json").read_text()))
    assert scores["gold"] == sum(len(tags_to_char_spans(e.units, e.tags)) for e in gold)
