"""Extractive QA: SQuAD/CMRC reader, windows and offsets, n-best decoding, CMRC training, predict -> official metric."""
import json

import numpy as np
import pytest
import torch

from cli_utils import BIN, USER_DIR, json_logs, load_script, run_cli
from shared_data import SHARED_DATA
from fairseq_plugins.data.squad_format import gold_answers, is_squad_v2, read_squad
from fairseq_plugins.data.squad_windows import answer_token_span, build_qa_windows, context_offsets
from fairseq_plugins.errors import InputError
from fairseq_plugins.metrics.squad import cmrc_scores
from fairseq_plugins.models.span_decoding import nbest_answers, no_answer_probability, null_score, top_spans
from fairseq_plugins.tokenization import build_tokenizer
from squad_fixtures import squad_v2

CMRC = SHARED_DATA / "uer" / "test_data" / "cmrc"
ZH_VOCAB = SHARED_DATA / "uer" / "vocab" / "google_zh_vocab.txt"
needs_cmrc = pytest.mark.skipif(not CMRC.is_dir() or not ZH_VOCAB.is_file(), reason="../shared/data/uer absent")


def write(path, value):
    path.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
    return path


def one_question(context="Paris is in France.", answers=({"text": "France", "answer_start": 12},), **qa):
    return {"version": "1.1", "data": [{"title": "t", "paragraphs": [{"context": context, "qas": [
        {"id": "q1", "question": "Where?", "answers": list(answers), **qa}]}]}]}


@pytest.fixture(scope="module")
def tiny_tokenizer(tmp_path_factory):
    """WordPiece over a hand-written vocabulary: every test word is one token."""
    path = tmp_path_factory.mktemp("vocab") / "vocab.txt"
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "aa", "bb", "cc", "dd", "ee", "ff", "gg", "q", "."]
    path.write_text("\n".join(words) + "\n")
    return build_tokenizer("bert", path, lowercase=True)


# ------------------------------------------------------------------------------------------- reader

def test_reads_v1_v2_and_answer_offsets(tmp_path):
    v1 = read_squad(write(tmp_path / "v1.json", one_question()))
    assert [(e.qid, e.context[e.answers[0].start:e.answers[0].end], e.is_impossible) for e in v1] == [
        ("q1", "France", None)]
    assert not is_squad_v2(v1)
    v2 = read_squad(write(tmp_path / "v2.json", squad_v2(3, seed=5, dev=True, impossible_rate=1.0)))
    assert is_squad_v2(v2)
    impossible = [e for e in v2 if e.is_impossible]
    assert len(impossible) == 3 and all(gold_answers(v2)[e.qid] == [] for e in impossible)
    assert all(len(e.answers) == 3 for e in v2 if not e.is_impossible)


@needs_cmrc
def test_reads_the_cmrc_sample_and_its_test_file_without_answers():
    train = read_squad(CMRC / "train.json")
    assert len(train) == 25 and all(e.context[a.start:a.end] == a.text for e in train for a in e.answers)
    test = read_squad(CMRC / "test.json", answers="ignored")  # placeholders at answer_start -1
    assert len(test) == 5 and all(not e.answers for e in test)
    with pytest.raises(InputError, match="TEST_0_QUERY_0.*FAKE_ANSWER_1"):
        read_squad(CMRC / "test.json")


@pytest.mark.parametrize("change, message, field", [
    (dict(answers=[{"text": "France", "answer_start": 3}]), "not at answer_start 3.*occurs at 12",
     "data[0].paragraphs[0].qas[0].answers[0].answer_start"),
    (dict(answers=[{"text": "Spain", "answer_start": 0}]), "not in the context",
     "data[0].paragraphs[0].qas[0].answers[0].answer_start"),
    (dict(answers=[{"text": "France"}]), "missing", "data[0].paragraphs[0].qas[0].answers[0].answer_start"),
    (dict(answers=[]), "no answers.*is_impossible", "data[0].paragraphs[0].qas[0].answers"),
    (dict(is_impossible=True), "is_impossible but 1 answers", "data[0].paragraphs[0].qas[0].answers"),
    (dict(is_impossible="no"), "true/false", "data[0].paragraphs[0].qas[0].is_impossible"),
])
def test_bad_entries_name_file_question_and_field(tmp_path, change, message, field):
    qa = {"answers": [{"text": "France", "answer_start": 12}], **change}
    path = write(tmp_path / "bad.json", one_question(**qa))
    with pytest.raises(InputError, match=message) as info:
        read_squad(path)
    assert info.value.path == str(path) and info.value.field == field and "'q1'" in str(info.value)


def test_repeated_ids_and_missing_fields_are_errors(tmp_path):
    data = one_question()
    data["data"][0]["paragraphs"][0]["qas"].append(dict(data["data"][0]["paragraphs"][0]["qas"][0]))
    with pytest.raises(InputError, match="repeated id"):
        read_squad(write(tmp_path / "twice.json", data))
    with pytest.raises(InputError, match="missing") as info:
        read_squad(write(tmp_path / "nodata.json", {"version": "1.1"}))
    assert info.value.field == "$.data"


# ------------------------------------------------------------------------------------------- windows

def test_windows_offsets_targets_and_max_context_by_hand(tmp_path, tiny_tokenizer):
    context = "aa bb cc dd ee ff gg"  # tokens 0..6 at characters 0, 3, 6, 9, 12, 15, 18
    data = one_question(context, [{"text": "dd ee", "answer_start": 9}])
    [example] = read_squad(write(tmp_path / "w.json", data))
    example.question = "q"
    # [CLS] q [SEP] = 3 positions, max length 8 leaves 4 context tokens; stride 2: windows at tokens 0, 2, 4
    windows, stats = build_qa_windows([example], tiny_tokenizer, max_length=8, max_query_length=4, doc_stride=2)
    assert [w.offsets[:, 0].tolist() for w in windows] == [[0, 3, 6, 9], [6, 9, 12, 15], [12, 15, 18]]
    ids = tiny_tokenizer.dictionary.indices
    assert windows[1].tokens.tolist() == [ids[t] for t in ["[CLS]", "q", "[SEP]", "cc", "dd", "ee", "ff", "[SEP]"]]
    # only the middle window holds "dd ee" (tokens 3-4) whole: positions 3 + (3 - 2) and 3 + (4 - 2)
    assert [(w.start, w.end, w.answer_type) for w in windows] == [(0, 0, 0), (4, 5, 2), (0, 0, 0)]
    # max context: token 2 (cc) is best in window 0? min(2, 1)=1 there, min(0, 3)=0 in window 1 -> window 0
    assert [w.max_context.tolist() for w in windows] == [[True, True, True, False], [False, True, True, False],
                                                         [False, True, True]]
    assert stats.windows == 3 and stats.windowed_questions == 1 and stats.cut_answers == 0
    # each window knows its first context token (0, 2, 4) and the question tokens it kept; the windows together
    # give back the offsets of every context token
    assert [(w.first_context_token, w.question_tokens, w.segment_start) for w in windows] == [(0, 1, 3), (2, 1, 3),
                                                                                             (4, 1, 3)]
    assert context_offsets(windows)[:, 0].tolist() == [0, 3, 6, 9, 12, 15, 18]
    with pytest.raises(ValueError, match="skip context tokens 0..1"):
        context_offsets(windows[1:])


@pytest.fixture(scope="module")
def roberta_vocab(tmp_path_factory):
    """The words of ``tiny_tokenizer`` behind RoBERTa's special tokens."""
    path = tmp_path_factory.mktemp("roberta") / "vocab.txt"
    path.write_text("\n".join(["<s>", "<pad>", "</s>", "<unk>", "<mask>", "aa", "bb", "cc", "dd", "ee", "ff", "gg",
                               "q", "."]) + "\n")
    return path


def test_roberta_vocabularies_read_pairs_with_two_separators_and_one_token_type(tmp_path, roberta_vocab):
    from fairseq_plugins.tasks.extractive_qa import ExtractiveQaConfig, ExtractiveQaTask

    path = write(tmp_path / "w.json", one_question("aa bb cc dd ee ff gg", [{"text": "dd ee", "answer_start": 9}]))
    [example] = read_squad(path)
    example.question = "q"
    tokenizer = build_tokenizer("bert", roberta_vocab, lowercase=True)
    ids = tokenizer.dictionary.indices
    # <s> q </s> </s> = 4 positions, max length 9 leaves 4 context tokens; stride 2: windows at tokens 0, 2, 4
    windows, _ = build_qa_windows([example], tokenizer, max_length=9, max_query_length=4, doc_stride=2)
    assert windows[1].tokens.tolist() == [ids[t] for t in ["<s>", "q", "</s>", "</s>", "cc", "dd", "ee", "ff", "</s>"]]
    assert [(w.first_context_token, w.segment_start, w.question_tokens) for w in windows] == [(0, 4, 1), (2, 4, 1),
                                                                                             (4, 4, 1)]
    assert [(w.start, w.end) for w in windows] == [(0, 0), (5, 6), (0, 0)]  # "dd ee": 4 + (3 - 2), 4 + (4 - 2)
    # an explicit layout wins over the vocabulary's
    bert_like, _ = build_qa_windows([example], tokenizer, max_length=9, max_query_length=4, doc_stride=2,
                                    pair_layout="bert")
    assert bert_like[0].tokens.tolist()[:4] == [ids[t] for t in ["<s>", "q", "</s>", "aa"]]
    with pytest.raises(InputError, match="leaves no room"):
        build_qa_windows([example], tokenizer, max_length=8, max_query_length=4)  # BERT's layout would fit
    # the task: the same windows, batches without token types (RoBERTa has one)
    task = ExtractiveQaTask.setup_task(ExtractiveQaConfig(vocab=str(roberta_vocab), max_length=9, max_query_length=4,
                                                          doc_stride=2))
    assert task.roberta_layout
    for split in ("train", "valid"):
        dataset = task.load_examples(split, [example], "w.json")
        batch = dataset.collater(list(range(len(dataset))))  # the three windows
        assert "segment_labels" not in batch["net_input"]
        assert batch["net_input"]["src_tokens"][1].tolist() == windows[1].tokens.tolist()


def test_answer_offsets_inside_tokens_cover_the_whole_tokens():
    offsets = np.array([[0, 5], [6, 10], [10, 12], [13, 17]])  # "abcde fghi## jk lmno"
    assert answer_token_span(offsets, 6, 12) == (1, 2)
    assert answer_token_span(offsets, 7, 11) == (1, 2)  # mid-token start and end widen to the tokens
    assert answer_token_span(offsets, 12, 13) is None  # whitespace only: no token


def test_answers_cut_by_every_window_are_counted(tmp_path, tiny_tokenizer):
    data = one_question("aa bb cc dd ee ff gg", [{"text": "bb cc dd ee ff", "answer_start": 3}])
    [example] = read_squad(write(tmp_path / "w.json", data))
    windows, stats = build_qa_windows([example], tiny_tokenizer, max_length=8, max_query_length=4, doc_stride=2)
    assert stats.cut_answers == 1 and all(w.start == 0 and w.answer_type == 0 for w in windows)


# ------------------------------------------------------------------------------------------- decoding

def test_top_spans_respect_order_length_and_masks():
    start = torch.tensor([0.0, 5.0, 1.0, 4.0])
    end = torch.tensor([0.0, 0.0, 3.0, 6.0])
    allowed = torch.tensor([False, True, True, True])
    assert top_spans(start, end, allowed, allowed, max_answer_length=3, n_best=3) == [
        (11.0, 1, 3), (10.0, 3, 3), (8.0, 1, 2)]
    assert top_spans(start, end, allowed, allowed, max_answer_length=1, n_best=2) == [(10.0, 3, 3), (5.0, 1, 1)]
    # end before start is never a span (start 2 + end 1 would score 18)
    assert top_spans(torch.tensor([0.0, 1.0, 9.0]), torch.tensor([0.0, 9.0, 0.0]), allowed[:3], allowed[:3], 5, 9)[0] \
        == (10.0, 1, 1)


def test_nbest_over_windows_uses_max_context_and_maps_to_text(tmp_path, tiny_tokenizer):
    context = "aa bb cc dd ee ff gg"
    [example] = read_squad(write(tmp_path / "w.json", one_question(context, [{"text": "aa", "answer_start": 0}])))
    example.question = "q"
    windows, _ = build_qa_windows([example], tiny_tokenizer, max_length=8, max_query_length=4, doc_stride=2)
    starts = [torch.full((len(w.tokens),), -10.0) for w in windows]
    ends = [torch.full((len(w.tokens),), -10.0) for w in windows]
    # window 1 prefers starting at "cc" (position 3) but cc's max-context window is window 0: not allowed there
    starts[1][3], ends[1][4] = 9.0, 2.0  # "cc dd" from window 1: refused start
    starts[1][4], ends[1][5] = 3.0, 4.0  # "dd ee" = 7
    starts[0][5], ends[0][6] = 1.0, 1.0  # "cc dd" from window 0 = 2
    starts[0][0] = ends[0][0] = 0.5  # [CLS]
    starts[2][0] = ends[2][0] = -1.0
    nbest = nbest_answers(context, windows, starts, ends, n_best=3, max_answer_length=4)
    assert [(a.text, a.score, a.window) for a in nbest] == [("dd ee", 7.0, 1), ("dd", 5.0, 1), ("cc dd", 2.0, 0)]
    assert [round(a.probability, 4) for a in nbest] == [round(p, 4) for p in torch.tensor([7.0, 5.0, 2.0]).softmax(0).tolist()]
    null = null_score(starts, ends)
    assert null == min(1.0, -20.0, -2.0)  # window 1's [CLS] scores -10 + -10
    assert no_answer_probability(null, nbest) == pytest.approx(1 / (1 + np.exp(7.0 + 20.0)))


# ------------------------------------------------------------------------------------------- training + predict

TINY_UER = ["--arch", "uer_mrc_bert_tiny", "--layers-num", "1", "--hidden-size", "32", "--emb-size", "32",
            "--feedforward-size", "64", "--heads-num", "2", "--dropout", "0"]


@needs_cmrc
def test_cmrc_training_lowers_loss_and_predict_scores_with_the_official_metric(tmp_path):
    data = tmp_path / "cmrc"
    data.mkdir()
    for split in ("train", "dev"):
        (data / f"{split}.json").write_bytes((CMRC / f"{split}.json").read_bytes())
    proc = run_cli([BIN / "fairseq-train", data, "--user-dir", USER_DIR, "--cpu", "--task", "extractive_qa",
                    "--vocab", ZH_VOCAB, "--metric", "cmrc", "--max-length", "64", "--max-query-length", "24",
                    "--doc-stride", "32", *TINY_UER, "--criterion", "extractive_qa", "--batch-size", "16",
                    "--optimizer", "adam", "--lr", "2e-3", "--lr-scheduler", "fixed", "--max-epoch", "4",
                    "--seed", "1", "--num-workers", "0", "--save-dir", tmp_path / "ckpt", "--log-format", "json",
                    "--log-interval", "1", "--no-progress-bar", "--no-epoch-checkpoints",
                    "--required-batch-size-multiple", "1", "--best-checkpoint-metric", "average",
                    "--maximize-best-checkpoint-metric"])
    log = proc.stdout + proc.stderr
    train = [float(r["train_loss"]) for r in json_logs(log, "train")]
    assert len(train) == 4 and train[-1] < train[0]
    valid = json_logs(log, "valid")
    assert all({"valid_exact_match", "valid_f1", "valid_average"} <= r.keys() for r in valid)
    assert "3 questions in" in log  # the dev file's questions, windowed and reported

    predict = load_script("qa_predict")
    checkpoint = tmp_path / "ckpt" / "checkpoint_best.pt"
    predict.main(["--load-model-path", str(checkpoint), "--test-path", str(CMRC / "test.json"),
                  "--prediction-path", str(tmp_path / "test_pred.json"), "--cpu"])
    answers = json.loads((tmp_path / "test_pred.json").read_text(encoding="utf-8"))
    test_questions = read_squad(CMRC / "test.json", answers="ignored")
    assert set(answers) == {e.qid for e in test_questions}
    context = {e.qid: e.context for e in test_questions}
    assert all(text and text in context[qid] for qid, text in answers.items())

    out = tmp_path / "dev_pred.json"
    predict.main(["--checkpoint", str(checkpoint), "--input", str(CMRC / "dev.json"), "--output", str(out),
                  "--nbest-output", str(tmp_path / "nbest.json"), "--evaluate", "--cpu"])
    dev = read_squad(CMRC / "dev.json")
    expected = cmrc_scores(gold_answers(dev), json.loads(out.read_text(encoding="utf-8")))
    best = [r for r in valid if float(r["valid_average"]) == max(float(v["valid_average"]) for v in valid)][0]
    assert float(best["valid_f1"]) == pytest.approx(expected["f1"], abs=0.01)  # validation = predict + metric
    nbest = json.loads((tmp_path / "nbest.json").read_text(encoding="utf-8"))
    assert all(len(v) >= 1 and v[0]["text"] == json.loads(out.read_text())[k] for k, v in nbest.items())

    # --pretrained-model-path (UER's option) starts a uer_mrc body from a checkpoint of the uer family and takes
    # its architecture; here the body of the model just trained, into a model asked for other sizes
    from fairseq import checkpoint_utils
    from fairseq_plugins.tasks.extractive_qa import ExtractiveQaConfig, ExtractiveQaTask
    task = ExtractiveQaTask.setup_task(ExtractiveQaConfig(data=str(data), vocab=str(ZH_VOCAB),
                                                          pretrained_model_path=str(checkpoint)))
    state = checkpoint_utils.load_checkpoint_to_cpu(str(checkpoint))
    cfg = state["cfg"].model
    cfg.hidden_size, cfg.emb_size = 64, 64
    model = task.build_model(cfg)
    assert cfg.hidden_size == 32
    body = {k: v for k, v in state["model"].items() if k.startswith("body.")}
    assert all(torch.equal(model.state_dict()[k], v) for k, v in body.items())
