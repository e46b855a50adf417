"""The support verifier: each signal on its own (fake embedder), the model judge, a real
NLI model built by the test, the factory, and the CLI's verify --jsonl."""

from __future__ import annotations

import io
import json

import pytest

from rag.__main__ import _verify_jsonl
from rag.config import Settings
from rag.errors import ConfigError
from rag.rules.relations import order_clash
from rag.verifier import ModelJudge, NLIVerifier, SignalVerifier, Verdict, make_verifier
from tests.fakes import FakeEmbedder, ScriptedGenerator

PASSAGE = (
    "Nvidia heeft maandag een nooit gezien verlies geleden op de beurs. Het aandeel verloor "
    "589 miljard dollar (561,7 miljard euro) aan waarde, een record in de Amerikaanse "
    "beursgeschiedenis. Tegelijk zagen andere techreuzen, zoals Apple en Meta, hun waarde stijgen."
)
QUOTE = (
    "Topman Sam Altman van OpenAI reageerde op sociale media. \u201cHet is een indrukwekkend model\u201d, "
    "schreef Altman. Analist Pieter Viaene noemde de reactie van de markt overdreven."
)


@pytest.fixture(scope="module")
def verifier():
    # The fake embedder's bag-of-words cosines run lower than e5's: thresholds to match.
    return SignalVerifier(FakeEmbedder(dim=256), min_similarity=0.55, on_topic_similarity=0.5)


def label(verifier, claim, passages=(PASSAGE,)):
    return verifier.verify(claim, list(passages)).label


def test_a_restated_claim_is_supported(verifier):
    verdict = verifier.verify("Het aandeel verloor 589 miljard dollar aan waarde [1].", [PASSAGE])
    assert verdict.label == "supported" and verdict.reason is None and 0 < verdict.score <= 1


def test_a_changed_number_is_a_contradiction_naming_the_passage_number(verifier):
    verdict = verifier.verify("Het aandeel verloor 600 miljard dollar aan waarde.", [PASSAGE])
    assert verdict.label == "contradicted"
    assert "600" in verdict.reason and "589" in verdict.reason


def test_a_changed_magnitude_is_a_contradiction(verifier):
    assert label(verifier, "Het aandeel verloor 589 miljoen dollar aan waarde.") == "contradicted"


def test_a_changed_company_is_a_contradiction(verifier):
    assert label(verifier, "Tegelijk zagen andere techreuzen, zoals Apple en Google, hun waarde stijgen.") == "contradicted"


def test_a_reversed_direction_is_a_contradiction(verifier):
    verdict = verifier.verify("Tegelijk zagen andere techreuzen, zoals Apple en Meta, hun waarde dalen.", [PASSAGE])
    assert verdict.label == "contradicted" and "direction" in verdict.reason


def test_a_contradicted_statement_is_a_contradiction_whoever_the_passages_leave_unnamed(verifier):
    claim = "Volgens analist Jan Peeters zagen andere techreuzen, zoals Apple en Meta, hun waarde {}."
    verdict = verifier.verify(claim.format("dalen"), [PASSAGE])
    assert verdict.label == "contradicted" and "Jan Peeters" in verdict.reason
    # an unnamed source saying what the passage says is still not in the passages
    assert label(verifier, claim.format("stijgen")) == "not_enough_info"


def test_a_negated_claim_is_a_contradiction_but_idioms_are_not_negations(verifier):
    assert label(verifier, "Het aandeel verloor geen 589 miljard dollar aan waarde.") == "contradicted"
    # "een nooit gezien verlies" is a record loss, not a negation
    assert label(verifier, "Nvidia heeft maandag een nooit gezien verlies geleden op de beurs.") == "supported"


def test_a_changed_weekday_is_a_contradiction(verifier):
    assert label(verifier, "Nvidia heeft dinsdag een nooit gezien verlies geleden op de beurs.") == "contradicted"


def test_a_weekday_the_passages_do_not_state_is_the_articles_context(verifier):
    passage = "Meta-oprichter Mark Zuckerberg zag zijn fortuin juist toenemen met 4,3 miljard dollar."
    claim = "Mark Zuckerberg zag zijn fortuin maandag toenemen met 4,3 miljard dollar."
    assert label(verifier, claim, [passage]) == "supported"
    verdict = verifier.verify("Het fortuin van Mark Zuckerberg slonk maandag met 4,3 miljard dollar.", [passage])
    assert verdict.label == "contradicted" and "slonk" in verdict.reason
    # a weekday the passages do state is still checked
    dated = passage.replace("zag zijn fortuin", "zag dinsdag zijn fortuin")
    assert label(verifier, claim, [dated]) == "contradicted"


def test_a_quote_given_to_the_wrong_speaker_is_a_contradiction(verifier):
    verdict = verifier.verify("\u201cHet is een indrukwekkend model\u201d, schreef Viaene.", [QUOTE])
    assert verdict.label == "contradicted" and "Altman" in verdict.reason


def test_a_name_after_a_naming_verb_is_what_is_named_not_the_speaker(verifier):
    # "noemde de daling van Nvidia": Nvidia is what Viaene judged, not who spoke.
    passage = (
        "Nvidia verloor maandag 17 procent. Analist Pieter Viaene van Degroof Petercam reageerde. "
        "Hij noemde de daling van het aandeel overdreven."
    )
    assert label(verifier, "Analist Pieter Viaene noemde de daling van Nvidia overdreven.", [passage]) == "supported"


def test_the_quoting_sentence_is_the_one_closest_to_what_is_said(verifier):
    # The claim describes Viaene as the other passage does, but the quote is Altman's.
    other = "Analist Pieter Viaene volgt de techsector van dichtbij op sociale media."
    verdict = verifier.verify(
        "Volgens analist Pieter Viaene, die de techsector van dichtbij op sociale media volgt, "
        "is het \u201ceen indrukwekkend model\u201d.",
        [other, QUOTE],
    )
    assert verdict.label == "contradicted" and verdict.reason == "Altman, not Pieter Viaene, said it in the passage"
    claim = "Topman Sam Altman van OpenAI schreef: \u201cHet is een indrukwekkend model\u201d."
    assert label(verifier, claim, [other, QUOTE]) == "supported"


def test_what_follows_volgens_and_the_source_is_what_the_source_says(verifier):
    passage = (
        "De Amerikaanse president Donald Trump noemde de app een wake-upcall voor de techbedrijven. "
        "De Australische minister Ed Husic roept op voorzichtig te zijn met de app."
    )
    verdict = verifier.verify(
        "Volgens de Australische minister Ed Husic is de app een wake-upcall voor de techbedrijven.", [passage]
    )
    assert verdict.label == "contradicted" and verdict.reason == "Trump, not Ed Husic, said it in the passage"
    claim = "Volgens president Donald Trump is de app een wake-upcall voor de techbedrijven."
    assert label(verifier, claim, [passage]) == "supported"


def test_the_speaker_of_a_quote_stands_in_for_the_claims_subject(verifier):
    # The quoting sentence names no one ("stelde hij"); the sentence before names its speaker.
    passage = (
        "Sam Altman, de CEO van OpenAI, prees zijn nieuwe concurrent. \u201cWij zullen uiteraard "
        "veel betere modellen leveren\u201d, stelde hij op X."
    )
    claim = "{} stelde op X dat zij uiteraard veel betere modellen zullen leveren."
    verdict = verifier.verify(claim.format("Jensen Huang"), [passage])
    assert verdict.label == "contradicted" and verdict.reason.endswith("where the passage says Altman")
    assert label(verifier, claim.format("Sam Altman"), [passage]) == "supported"


def test_a_role_at_another_company_than_the_passage_gives_it_is_a_contradiction(verifier):
    verdict = verifier.verify("Google-topman Sam Altman reageerde op sociale media.", [QUOTE])
    assert verdict.label == "contradicted"
    assert verdict.reason == "role: the passage makes Sam Altman CEO of OpenAI, not Google"
    assert label(verifier, "OpenAI-topman Sam Altman reageerde op sociale media.", [QUOTE]) == "supported"
    inbona = "Vanwaar die koersval? De visie van Clément Inbona, fondsmanager bij La Financière de l’Echiquier."
    verdict = verifier.verify("De visie van Clément Inbona, analist bij La Financière de l’Echiquier.", [inbona])
    assert verdict.label == "contradicted"
    assert verdict.reason == "role: the passage makes Clément Inbona fund manager of La Financière, not analyst"
    fortunes = "Ook Oracle-oprichter Larry Ellison en Dell-oprichter Michael Dell verloren maandag miljarden."
    verdict = verifier.verify("Ook Dell-oprichter Larry Ellison verloor maandag miljarden.", [fortunes])
    assert verdict.label == "contradicted" and verdict.reason.endswith("founder of Oracle, not Dell")


def test_a_name_added_with_also_lacks_information_rather_than_replacing_one(verifier):
    claim = "Tegelijk zagen andere techreuzen, zoals Apple en {}, hun waarde stijgen."
    assert label(verifier, claim.format("Intel")) == "contradicted"  # Intel in Meta's place
    assert label(verifier, claim.format("ook Intel")) == "not_enough_info"


def test_a_superlative_since_a_date_is_no_record_of_all_time(verifier):
    passage = "Het aandeel van Nvidia verloor maandag net geen 17 procent, de grootste daling sinds maart 2020."
    verdict = verifier.verify("Het aandeel van Nvidia verloor maandag net geen 17 procent, de grootste daling ooit.", [passage])
    assert verdict.label == "contradicted" and verdict.reason == "the claim says of all time, the passage says sinds maart 2020"
    claim = "Het aandeel van Nvidia verloor maandag net geen 17 procent, de grootste daling sinds 2020."
    assert label(verifier, claim, [passage]) != "contradicted"


def test_all_where_the_passage_says_not_all_is_a_contradiction(verifier):
    passage = "Niet alle techmiljardairs kregen het zwaar te verduren door de koersval."
    verdict = verifier.verify("Alle techmiljardairs kregen het zwaar te verduren door de koersval.", [passage])
    assert verdict.label == "contradicted" and verdict.reason == "quantifier: the claim says Alle, the passage Niet alle"
    claim = "Niet alle techmiljardairs kregen het zwaar te verduren door de koersval."
    assert label(verifier, claim, [passage]) == "supported"


def test_steps_in_the_reverse_order_are_a_contradiction(verifier):
    passage = "Aanvankelijk deed China dat met textiel, later in de industrie, tot aan de bouw van elektrische auto's toe."
    verdict = verifier.verify("China produceerde eerst in de auto-industrie en pas later in de textielsector.", [passage])
    assert verdict.label == "contradicted"
    assert verdict.reason == "order: the claim puts industrie before textielsector, the passage textiel before industrie"
    claim = "China produceerde eerst in de textielsector en pas later in de industrie."
    assert label(verifier, claim, [passage]) != "contradicted"


def test_a_direction_under_a_negation_is_reversed(verifier):
    passage = "Niet alle techmiljardairs verloren. Meta-oprichter Mark Zuckerberg zag zijn fortuin juist toenemen."
    claim = "Mark Zuckerberg behoorde niet tot de techmiljardairs die hun fortuin zagen afnemen."
    assert label(verifier, claim, [passage]) != "contradicted"
    assert label(verifier, "Mark Zuckerberg zag zijn fortuin juist afnemen.", [passage]) == "contradicted"


def test_places_swapped_between_what_they_qualify_are_a_contradiction(verifier):
    passage = "Het toont aan hoe Chinese bedrijven hun afhankelijkheid van Amerikaanse technologie omzeilen."
    verdict = verifier.verify("Het toont aan hoe Amerikaanse bedrijven hun afhankelijkheid van Chinese technologie omzeilen.", [passage])
    assert verdict.label == "contradicted"
    assert verdict.reason == "place: the claim says Amerikaanse bedrijven, the passage Chinese bedrijven"
    assert label(verifier, passage, [passage]) == "supported"


def test_a_place_stands_in_only_for_one_that_qualifies_the_same_thing(verifier):
    passage = "Ondanks de Amerikaanse beperkingen op de export van chips bouwde DeepSeek een sterk model."
    claim = "Ondanks de {} beperkingen op de export van {} bouwde DeepSeek een sterk model."
    # the passage says nothing of where the chips come from
    assert label(verifier, claim.format("strenge", "Chinese chips"), [passage]) == "not_enough_info"
    verdict = verifier.verify(claim.format("Europese", "chips"), [passage])
    assert verdict.label == "contradicted" and "Amerikaanse" in verdict.reason


def test_a_name_the_passage_calls_by_a_description_in_its_place_is_implicit(verifier):
    passage = "Minister Ed Husic roept op voorzichtig te zijn bij gebruik van de app, zei hij bij ABC News."
    claim = "Minister Ed Husic roept op voorzichtig te zijn bij gebruik van de {}, zei hij bij {} News."
    assert label(verifier, claim.format("DeepSeek-app", "ABC"), [passage]) == "supported"
    assert label(verifier, claim.format("DeepSeek-app", "CNN"), [passage]) != "supported"
    # a name elsewhere than the description stays missing
    trump = "De Amerikaanse president Donald Trump noemde de app een wake-upcall voor de techbedrijven."
    assert label(verifier, trump.replace("Donald Trump", "Joe Biden"), [trump]) == "contradicted"


def test_not_inferior_is_no_negation(verifier):
    passage = "Het model presteert even goed als de beste AI-modellen van OpenAI en Google."
    claim = "Het model doet niet onder voor de beste AI-modellen van OpenAI en Google."
    assert label(verifier, claim, [passage]) != "contradicted"


FORTUNES = (
    "De klap voor Nvidia raakte ook de rijkste mensen ter wereld, onder wie oprichter Jensen "
    "Huang. Hij verloor maandag 20,1 miljard dollar, wat neerkomt op een vijfde van zijn vermogen. "
    "Meta-oprichter Mark Zuckerberg zag zijn fortuin juist toenemen met 4,3 miljard dollar."
)


def test_an_amount_given_to_another_party_is_a_contradiction(verifier):
    # "Hij" in the passage is Jensen Huang, named in the sentence before.
    verdict = verifier.verify("Mark Zuckerberg verloor 20,1 miljard dollar, een vijfde van zijn vermogen.", [FORTUNES])
    assert verdict.label == "contradicted" and verdict.reason == (
        "number 20.1 belongs to Huang in the passage, not Zuckerberg"
    )
    # A first word the passages never write in lower case is a name ("Nvidia heeft ...").
    verdict = verifier.verify("Het aandeel van Meta verloor 589 miljard dollar aan waarde.", [PASSAGE])
    assert verdict.label == "contradicted" and verdict.reason == (
        "number 589 belongs to Nvidia in the passage, not Meta"
    )
    # An English possessive first word is a name too.
    english = "Nvidia suffered a record loss on Monday. The share lost 589 billion dollars in value."
    verdict = verifier.verify("Meta's share lost 589 billion dollars in value.", [english])
    assert verdict.label == "contradicted" and verdict.reason == (
        "number 589 belongs to Nvidia in the passage, not Meta"
    )
    assert label(verifier, "Jensen Huang verloor maandag 20,1 miljard dollar.", [FORTUNES]) == "supported"
    assert label(verifier, "Het aandeel van Nvidia verloor 589 miljard dollar aan waarde.") == "supported"


RESPECTIVELY = (
    "De klap voor Nvidia raakte ook de rijkste mensen ter wereld. Ook Oracle-oprichter Larry "
    "Ellison en Dell-oprichter Michael Dell zagen respectievelijk 22,6 miljard en 13 miljard "
    "dollar in rook opgaan."
)


def test_amounts_swapped_within_a_respectively_list_are_a_contradiction(verifier):
    verdict = verifier.verify("Larry Ellison verloor 13 miljard dollar en Michael Dell 22,6 miljard dollar.", [RESPECTIVELY])
    assert verdict.label == "contradicted"
    assert verdict.reason == "number 22.6 belongs to Larry Ellison in the passage, not Dell"
    # The claim's own list is read by order too, and so is English word order.
    claim = "Oracle-oprichter Larry Ellison en Dell-oprichter Michael Dell zagen respectievelijk 13 miljard en 22,6 miljard dollar in rook opgaan."
    assert label(verifier, claim, [RESPECTIVELY]) == "contradicted"
    english = "Oracle founder Larry Ellison and Dell founder Michael Dell lost 22.6 billion and 13 billion dollars respectively."
    assert label(verifier, "Larry Ellison lost 13 billion dollars and Michael Dell lost 22.6 billion dollars.", [english]) == "contradicted"
    assert label(verifier, "Larry Ellison lost 22.6 billion dollars and Michael Dell lost 13 billion dollars.", [english]) == "supported"
    assert label(verifier, "Larry Ellison verloor 22,6 miljard dollar en Michael Dell 13 miljard dollar.", [RESPECTIVELY]) == "supported"
    assert label(verifier, RESPECTIVELY.split(". ")[1], [RESPECTIVELY]) == "supported"


def test_a_respectively_list_in_the_claim_gives_each_amount_its_own_party(verifier):
    claim = "Zowel Jensen Huang als Mark Zuckerberg zag zijn fortuin veranderen, met respectievelijk 20,1 miljard en 4,3 miljard dollar."
    assert label(verifier, claim, [FORTUNES]) != "contradicted"
    claim = "Zowel Jensen Huang als Mark Zuckerberg zag zijn fortuin veranderen, met respectievelijk 4,3 miljard en 20,1 miljard dollar."
    verdict = verifier.verify(claim, [FORTUNES])
    assert verdict.label == "contradicted" and "belongs to" in verdict.reason


def test_an_amount_written_in_another_magnitude_is_the_same_amount(verifier):
    claim = "Hij verloor maandag 20.100 miljoen dollar, wat neerkomt op een vijfde van zijn vermogen."
    assert label(verifier, claim, [FORTUNES]) == "supported"
    sentence = "Het aandeel verloor {} dollar (561,7 miljard euro) aan waarde, een record in de Amerikaanse beursgeschiedenis."
    assert label(verifier, sentence.format("589.000.000.000")) == "supported"
    assert label(verifier, sentence.format("589.000.000")) != "supported"


def test_a_rounded_amount_is_supported_only_on_the_side_its_word_says(verifier):
    sentence = "Het aandeel verloor {} aan waarde, een record in de Amerikaanse beursgeschiedenis."
    assert label(verifier, sentence.format("ruim 560 miljard euro")) == "supported"
    assert label(verifier, sentence.format("bijna 600 miljard dollar")) == "supported"
    assert label(verifier, sentence.format("ongeveer 0,59 biljoen dollar")) == "supported"
    # the value is not above, below or near the rounded number
    assert label(verifier, sentence.format("ruim 600 miljard dollar")) == "contradicted"
    assert label(verifier, sentence.format("ongeveer 700 miljard dollar")) == "contradicted"
    # without a rounding word the number must be the passage's own
    assert label(verifier, sentence.format("560 miljard euro")) == "contradicted"


def test_a_percentage_restating_a_fraction_of_the_passage_is_supported(verifier):
    claim = "Jensen Huang verloor maandag 20,1 miljard dollar, ongeveer 20 procent van zijn vermogen."
    assert label(verifier, claim, [FORTUNES]) == "supported"
    # another percentage is not that fraction
    claim = "Jensen Huang verloor maandag 20,1 miljard dollar, ongeveer 40 procent van zijn vermogen."
    assert label(verifier, claim, [FORTUNES]) != "supported"


def test_an_opposite_quality_is_a_contradiction_unless_negated(verifier):
    passage = (
        "Tot de winnaars van maandag behoort ook Apple, dat met meer dan 3 procent in waarde steeg. "
        "Zijn investeringen in AI zijn relatief bescheiden in vergelijking met veel van zijn techconcurrenten."
    )
    verdict = verifier.verify("Zijn investeringen in AI zijn relatief groot in vergelijking met veel van zijn techconcurrenten.", [passage])
    assert verdict.label == "contradicted" and verdict.reason == "antonym: the claim says groot, the passage bescheiden"
    claim = "Zijn investeringen in AI zijn niet groot in vergelijking met veel van zijn techconcurrenten."
    assert label(verifier, claim, [passage]) != "contradicted"
    claim = "Zijn investeringen in AI zijn relatief bescheiden in vergelijking met veel van zijn techconcurrenten."
    assert label(verifier, claim, [passage]) == "supported"
    negated = passage.replace("relatief bescheiden", "niet groot")
    assert label(verifier, claim, [negated]) != "contradicted"
    cheaper = "De app presteert even goed als de modellen van OpenAI, maar kostte veel minder om te ontwikkelen."
    verdict = verifier.verify(cheaper.replace("minder", "meer"), [cheaper])
    assert verdict.label == "contradicted" and verdict.reason == "antonym: the claim says meer, the passage minder"
    # "onder meer" lists; it compares nothing
    claim = "De app presteert even goed als de modellen van onder meer OpenAI, maar kostte veel minder om te ontwikkelen."
    assert label(verifier, claim, [cheaper]) == "supported"
    widely = "Its chatbot was known only to a small circle of insiders before it topped the charts."
    verdict = verifier.verify("Its chatbot was widely known to insiders before it topped the charts.", [widely])
    assert verdict.label == "contradicted" and verdict.reason == "antonym: the claim says widely, the passage small"
    assert label(verifier, "Its chatbot was not widely known to insiders before it topped the charts.", [widely]) != "contradicted"
    english = "Compared with many of its tech rivals, Apple has invested modestly in AI."
    verdict = verifier.verify(english.replace("modestly", "heavily"), [english])
    assert verdict.label == "contradicted" and verdict.reason == "antonym: the claim says heavily, the passage modestly"


def test_a_negation_of_what_the_passage_states_is_a_contradiction_wherever_else_it_negates(verifier):
    passage = (
        "“De methode waarmee R1 is getraind, is openbaar gemaakt, maar we zien nooit de "
        "volledige datasets die DeepSeek heeft gebruikt.”"
    )
    verdict = verifier.verify("De methode waarmee R1 is getraind, is nooit openbaar gemaakt.", [passage])
    assert verdict.label == "contradicted" and verdict.reason == (
        "negation: the claim says nooit openbaar gemaakt, the passage does not negate it"
    )
    # The passage's own negation right after the words ("we zien nooit") is one.
    claim = "De methode is openbaar gemaakt, maar de volledige datasets zien we nooit."
    assert label(verifier, claim, [passage]) == "supported"


def test_an_acronym_matches_its_spelled_out_translation(verifier):
    passage = "Sinds de toetreding tot de Wereldhandelsorganisatie produceert China steeds goedkoper."
    assert label(verifier, "Since joining the WTO, China produces ever more cheaply.", [passage]) != "contradicted"


def test_claims_the_passages_do_not_cover_lack_information(verifier):
    assert label(verifier, "De Franse regering kondigde nieuwe belastingen aan voor banken.") == "not_enough_info"
    # an invented name without a rival in the matching sentence
    assert label(verifier, "Nvidia heeft maandag een nooit gezien verlies geleden, zei Jensen Huang.", [PASSAGE.split(". ")[0] + "."]) == "not_enough_info"


def test_empty_claims_and_passages_are_not_enough_info(verifier):
    assert verifier.verify("  [1] ", [PASSAGE]) == Verdict("not_enough_info", 1.0, "empty claim")
    assert verifier.verify("Nvidia verloor.", ["", "  "]).reason == "no passage text"


def test_the_judge_can_only_downgrade_a_supported_claim():
    generator = ScriptedGenerator(["NO", "YES"])
    verifier = SignalVerifier(FakeEmbedder(dim=256), 0.55, 0.5, judge=ModelJudge(generator))
    claim = "Het aandeel verloor 589 miljard dollar aan waarde."
    assert verifier.verify(claim, [PASSAGE]).label == "not_enough_info"
    assert verifier.verify(claim, [PASSAGE]).label == "supported"
    # a contradiction is decided by the signals; the judge is not asked
    assert verifier.verify("Het aandeel verloor 600 miljard dollar aan waarde.", [PASSAGE]).label == "contradicted"
    assert len(generator.calls) == 2
    assert "<text>" in generator.calls[0][-1].content and claim in generator.calls[0][-1].content


def test_make_verifier_reads_the_setting():
    embedder = FakeEmbedder()
    assert make_verifier(Settings.from_env({"RAG_VERIFIER": "signals"}), embedder).name == "signals"
    judged = make_verifier(Settings.from_env({}), embedder, ScriptedGenerator("YES"))
    assert judged.name == "signals+judge" and judged.judge.generator.id == "scripted"
    assert isinstance(make_verifier(Settings.from_env({"RAG_VERIFIER": "nli:/models/x"})), NLIVerifier)
    with pytest.raises(ConfigError, match="RAG_VERIFIER='magic'"):
        make_verifier(Settings.from_env({"RAG_VERIFIER": "magic"}), embedder)


def tiny_nli_model(path, id2label):
    """A randomly initialised BERT classifier with a word-level tokenizer, saved to `path`."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "nvidia", "verloor", "589", "miljard", "dollar"]
    tokenizer = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]"
    )
    fast.save_pretrained(path)
    config = BertConfig(
        vocab_size=len(words), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=32, num_labels=len(id2label), id2label=id2label,
        label2id={v: k for k, v in id2label.items()},
    )
    BertForSequenceClassification(config).save_pretrained(path)
    return str(path)


def test_an_nli_model_from_a_local_path_maps_its_labels(tmp_path):
    path = tiny_nli_model(tmp_path / "nli", {0: "ENTAILMENT", 1: "NEUTRAL", 2: "CONTRADICTION"})
    verifier = make_verifier(Settings.from_env({"RAG_VERIFIER": f"nli:{path}"}))
    verdict = verifier.verify("Nvidia verloor 589 miljard dollar [1].", ["Nvidia verloor 589 miljard dollar."])
    assert verdict.label in ("supported", "contradicted", "not_enough_info")
    assert 1 / 3 <= verdict.score <= 1  # the most probable of three labels
    assert verdict.reason.startswith(f"nli:{path}")


def test_an_nli_model_whose_labels_mean_nothing_is_a_clear_error(tmp_path):
    path = tiny_nli_model(tmp_path / "odd", {0: "LABEL_0", 1: "LABEL_1"})
    with pytest.raises(ConfigError, match="names none of entailment"):
        NLIVerifier(path).verify("Nvidia verloor.", ["Nvidia verloor 589 miljard dollar."])


def test_verify_jsonl_answers_every_line_and_reports_bad_ones(monkeypatch):
    monkeypatch.setattr(
        "rag.verifier.make_verifier", lambda settings: SignalVerifier(FakeEmbedder(dim=256), 0.55, 0.5)
    )
    stdin = io.StringIO(
        json.dumps({"claim": "Het aandeel verloor 600 miljard dollar aan waarde.", "passages": [PASSAGE]}) + "\n"
        + "not json\n"
        + json.dumps({"claim": "x"}) + "\n"
    )
    stdout = io.StringIO()
    assert _verify_jsonl(Settings.from_env({}), stdin, stdout) == 1
    first, second, third = [json.loads(line) for line in stdout.getvalue().splitlines()]
    assert first["label"] == "contradicted" and 0 < first["score"] <= 1
    assert second == {"error": "line 2 is not JSON: Expecting value"}
    assert "needs" in third["error"]


def test_a_name_before_or_after_a_description_of_it_is_implicit(verifier):
    passage = "Al die aandacht dankt de app aan een combinatie van unieke kenmerken: hij komt uit China en is open source."
    assert label(verifier, "De app van DeepSeek komt uit China en is open source.", [passage]) == "supported"
    assert label(verifier, "Het model van DeepSeek komt uit China en is open source.", [passage]) != "supported"


def test_two_words_of_avoiding_say_the_same(verifier):
    passage = "Het taalmodel van DeepSeek ontwijkt vragen over het Tiananmenprotest."
    assert label(verifier, "Vragen over het Tiananmenprotest worden door het taalmodel van DeepSeek ontweken.", [passage]) == "supported"
    assert label(verifier, "Het taalmodel van DeepSeek ontwijkt geen vragen over het Tiananmenprotest.", [passage]) == "contradicted"
    passage = "Chinese bedrijven hebben hun afhankelijkheid van Amerikaanse technologie weten te omzeilen."
    assert label(verifier, "Chinese bedrijven hebben hun afhankelijkheid van Amerikaanse technologie weten te ontwijken.", [passage]) == "supported"
    verdict = verifier.verify("Chinese bedrijven hebben hun afhankelijkheid van Amerikaanse technologie niet weten te omzeilen.", [passage])
    assert verdict.label == "contradicted" and "negation" in verdict.reason


def test_higher_for_lower_and_confirms_for_undermines_are_opposites(verifier):
    passage = "Vandaag komt de drempel om AI-modellen te bouwen een stuk lager te liggen en zal de concurrentie dus flink toenemen."
    verdict = verifier.verify("Vandaag komt de drempel om AI-modellen te bouwen een stuk hoger te liggen.", [passage])
    assert verdict.label == "contradicted" and "hoger" in verdict.reason
    assert label(verifier, "Vandaag komt de drempel om AI-modellen te bouwen een stuk lager te liggen.", [passage]) == "supported"
    passage = "Dat ondermijnt het huidige Silicon Valley-narratief dat enorme kapitaalinvesteringen essentieel zijn."
    claim = "Dat bevestigt het huidige Silicon Valley-narratief dat enorme kapitaalinvesteringen essentieel zijn."
    assert label(verifier, claim, [passage]) == "contradicted"


def test_a_lower_rank_for_a_first_place_is_a_contradiction(verifier):
    claim = "Het aandeel verloor 589 miljard dollar aan waarde, het op één na grootste verlies in de Amerikaanse beursgeschiedenis."
    verdict = verifier.verify(claim, [PASSAGE])
    assert verdict.label == "contradicted" and verdict.reason.startswith("rank")
    passage = "Het aandeel van Nvidia verloor maandag net geen 17 procent, de grootste daling sinds maart 2020."
    assert label(verifier, passage.replace("de grootste", "de tweede grootste"), [passage]) == "contradicted"
    assert label(verifier, passage, [passage.replace("de grootste", "de tweede grootste")]) == "contradicted"
    assert label(verifier, passage, [passage]) == "supported"


def test_order_words_match_across_spellings_of_c_and_k():
    sentence = "Aanvankelijk deed het dat met textiel, later in de industrie, tot aan de bouw van elektrische auto's toe."
    assert order_clash("China first made electric cars and only later textiles.", sentence)
    assert order_clash("China first made textiles and only later electric cars.", sentence) is None


def test_a_percentage_given_to_another_party_is_a_contradiction(verifier):
    passages = [
        "Het aandeel van Nvidia verloor maandag net geen 17 procent, de grootste daling sinds maart 2020.",
        "Tot de winnaars van maandag behoort ook Apple van topman Tim Cook, dat met meer dan 3 procent in waarde steeg.",
    ]
    verdict = verifier.verify("Apple's aandeel verloor maandag net geen 17 procent, de grootste daling sinds maart 2020.", passages)
    assert verdict.label == "contradicted" and "Nvidia" in verdict.reason
    # the passage's owner named beside another name of the claim
    claim = "Apple, het bedrijf van topman Tim Cook, steeg maandag met meer dan 3 procent in waarde."
    assert label(verifier, claim, passages) != "contradicted"


def test_a_weekday_relative_to_the_reported_day_is_no_rival(verifier):
    assert label(verifier, "Nvidia had de vrijdag ervoor al een verlies geleden op de beurs.") != "contradicted"
    assert label(verifier, "Nvidia heeft vrijdag een nooit gezien verlies geleden op de beurs.") == "contradicted"


def test_two_events_in_the_reverse_order_are_a_contradiction(verifier):
    passage = "De daling volgde op het nieuws dat de Chinese start-up DeepSeek een concurrerend AI-model heeft ontwikkeld."
    claim = "Het nieuws over het concurrerende AI-model van DeepSeek raakte pas bekend nadat de daling al begonnen was."
    verdict = verifier.verify(claim, [passage])
    assert verdict.label == "contradicted" and "other way round" in verdict.reason
    claim = "De daling kwam nadat het nieuws over het concurrerende AI-model van DeepSeek bekend raakte."
    assert label(verifier, claim, [passage]) != "contradicted"
    claim = "Na het nieuws over het concurrerende AI-model van DeepSeek, begon de daling."
    assert label(verifier, claim, [passage]) != "contradicted"


def test_the_first_move_reversed_is_a_contradiction(verifier):
    passage = "Dat kwam doordat het aandeel van Meta, na een vroege daling, sterk herstelde."
    verdict = verifier.verify("Het aandeel van Meta zakte na een vroege stijging sterk weg.", [passage])
    assert verdict.label == "contradicted" and "first stijging" in verdict.reason
    assert label(verifier, "Het aandeel van Meta herstelde sterk na een vroege daling.", [passage]) == "supported"


def test_a_comparison_the_passage_amounts_reverse_is_a_contradiction(verifier):
    passage = "Ook Oracle-oprichter Larry Ellison en Dell-oprichter Michael Dell zagen respectievelijk 22,6 miljard en 13 miljard dollar in rook opgaan."
    verdict = verifier.verify("Dell-oprichter Michael Dell zag meer geld in rook opgaan dan Oracle-oprichter Larry Ellison.", [passage])
    assert verdict.label == "contradicted" and verdict.reason.startswith("comparison")
    assert label(verifier, "Oracle-oprichter Larry Ellison zag meer geld in rook opgaan dan Dell-oprichter Michael Dell.", [passage]) != "contradicted"
    assert label(verifier, "Dell-oprichter Michael Dell zag minder geld in rook opgaan dan Oracle-oprichter Larry Ellison.", [passage]) != "contradicted"


def test_a_city_stands_in_for_no_country_and_no_company(verifier):
    passage = "DeepSeek, een Chinese start-up, schoot als een raket naar de top van de lijst van meest gedownloade apps."
    claim = "DeepSeek, een start-up uit Hangzhou, schoot als een raket naar de top van de lijst van meest gedownloade apps."
    assert label(verifier, claim, [passage]) == "not_enough_info"
    assert label(verifier, passage.replace("Chinese", "Japanse"), [passage]) == "contradicted"
    passage = "Topman Tim Cook stelde de nieuwe iPhone van Apple voor."
    assert label(verifier, "Topman Tim Cook stelde de nieuwe iPhone voor in Cupertino.", [passage]) == "not_enough_info"
    assert label(verifier, "Topman Tim Cook stelde de nieuwe iPhone van Google voor.", [passage]) == "contradicted"


def test_clear_for_unanswered_is_an_opposite(verifier):
    passage = "Veel vragen blijven nog onbeantwoord, met name welke dataset er gebruikt werd."
    verdict = verifier.verify("Veel vragen zijn nu duidelijk, met name welke dataset er gebruikt werd.", [passage])
    assert verdict.label == "contradicted" and "duidelijk" in verdict.reason
    assert label(verifier, "Veel vragen zijn nog onduidelijk, met name welke dataset er gebruikt werd.", [passage]) == "supported"


def test_he_is_the_person_the_sentence_before_names_last(verifier):
    claim = "Larry Ellison verloor maandag 20,1 miljard dollar, wat neerkomt op een vijfde van zijn vermogen."
    verdict = verifier.verify(claim, [FORTUNES])
    assert verdict.label == "contradicted" and "Huang" in verdict.reason


def test_a_claim_opening_with_also_adds_a_party(verifier):
    passage = "Het nieuws over DeepSeek riep bij investeerders vragen op over de toekomst van de dominantie van Nvidia."
    claim = "Ook het aandeel van chipmaker AMD riep bij investeerders vragen op over de toekomst van Nvidia."
    assert label(verifier, claim, [passage]) == "not_enough_info"
    assert label(verifier, claim.replace("Ook het", "Het"), [passage]) == "contradicted"


def test_a_second_place_for_the_top_position_is_a_contradiction(verifier):
    passage = "De chatbot schoot als een raket naar de koppositie in de lijst van meest gedownloade apps."
    verdict = verifier.verify("De chatbot schoot als een raket naar de tweede plaats in de lijst van meest gedownloade apps.", [passage])
    assert verdict.label == "contradicted" and "tweede plaats" in verdict.reason


def test_an_order_reversed_counts_when_the_passage_leaves_the_name_implicit(verifier):
    passage = "De daling volgde op het nieuws dat DeepSeek met beperkte middelen een concurrerend AI-model heeft ontwikkeld."
    claim = "De daling van Nvidia ging vooraf aan het nieuws dat DeepSeek met beperkte middelen een concurrerend AI-model had ontwikkeld."
    verdict = verifier.verify(claim, [passage])
    assert verdict.label == "contradicted" and "ging vooraf aan" in verdict.reason
    claim = "De daling van Nvidia volgde op het nieuws dat DeepSeek met beperkte middelen een concurrerend AI-model had ontwikkeld."
    assert label(verifier, claim, [passage]) == "not_enough_info"


def test_a_date_in_figures_is_the_date_in_words(verifier):
    passage = "Dat maakte van 27 januari 2025 volgens Bloomberg een van de tien slechtste beursdagen ooit."
    assert label(verifier, "Dat maakte van 27-01-2025 volgens Bloomberg een van de tien slechtste beursdagen ooit.", [passage]) == "supported"
    assert label(verifier, "Dat maakte van 28-01-2025 volgens Bloomberg een van de tien slechtste beursdagen ooit.", [passage]) == "contradicted"


def test_the_whole_a_fraction_is_part_of_is_stated(verifier):
    claim = "Jensen Huang verloor maandag 20,1 miljard dollar van een vermogen van ongeveer 100 miljard dollar."
    assert label(verifier, claim, [FORTUNES]) == "supported"
    assert label(verifier, claim.replace("100 miljard", "150 miljard"), [FORTUNES]) != "supported"


def test_a_comparison_the_amounts_bear_out_is_supported_however_worded(verifier):
    # The fake embedder finds this below the similarity floor; the amounts decide.
    passages = [
        "Meta-oprichter Mark Zuckerberg zag zijn fortuin juist toenemen met 4,3 miljard dollar.",
        "Amazon-oprichter Jeff Bezos boekte eveneens winst, met een toename van 632 miljoen dollar.",
    ]
    claim = "Oprichter Mark Zuckerberg zag zijn fortuin {} toenemen dan Jeff Bezos."
    assert label(verifier, claim.format("veel meer"), passages) == "supported"
    assert label(verifier, claim.format("veel minder"), passages) != "supported"


def test_a_partner_for_a_competitor_is_an_opposite(verifier):
    passage = "Sam Altman, de CEO van OpenAI, prees zijn nieuwe Chinese concurrent."
    verdict = verifier.verify("Sam Altman, de CEO van OpenAI, prees zijn nieuwe Chinese partner.", [passage])
    assert verdict.label == "contradicted" and "partner" in verdict.reason


def test_a_state_stands_in_for_no_person(verifier):
    passage = "De Amerikaanse president Donald Trump noemde de app een wake-upcall voor de Amerikaanse techbedrijven."
    claim = "Trump noemde de app een wake-upcall voor de Amerikaanse techbedrijven tijdens een toespraak in Florida."
    assert label(verifier, claim, [passage]) == "not_enough_info"


def test_another_role_at_another_company_is_a_contradiction(verifier):
    passage = "De visie van Marleen Peeters, econoom bij ING."
    verdict = verifier.verify("De visie van Marleen Peeters, redacteur bij Bloomberg.", [passage])
    assert verdict.label == "contradicted"
    assert verdict.reason == "role: the passage makes Marleen Peeters economist of ING, not editor of Bloomberg"
    founder = "De visie van Marleen Peeters, oprichter van Peeters Capital."
    reason = verifier.verify("De visie van Marleen Peeters, econoom bij ING.", [founder]).reason
    assert not (reason or "").startswith("role:")  # a founder may hold a role elsewhere


def test_a_hyphenated_place_is_one_name_and_a_rival_of_the_passage_place(verifier):
    passage = "Het Japanse bedrijf Rakuten opende een nieuw kantoor in de haven."
    verdict = verifier.verify("Het Zuid-Koreaanse bedrijf Rakuten opende een nieuw kantoor in de haven.", [passage])
    assert verdict.label == "contradicted" and "Zuid-Koreaanse" in verdict.reason


def test_not_losing_where_the_passage_says_gained_is_no_negation_clash(verifier):
    passage = "Investeerder Warren Buffett boekte maandag winst, met een toename van 300 miljoen dollar."
    claim = (
        "Investeerder Warren Buffett hoorde maandag niet bij de beleggers die verloren: hij boekte "
        "winst met een toename van 300 miljoen dollar."
    )
    verdict = verifier.verify(claim, [passage])
    assert verdict.label != "contradicted", verdict.reason
    lost = "Investeerder Warren Buffett verloor maandag geld, met een afname van 300 miljoen dollar."
    assert label(verifier, claim, [lost]) == "contradicted"


def test_the_move_after_the_first_reversed_is_a_contradiction(verifier):
    passage = "Het aandeel van Philips herstelde na een vroege daling sterk."
    verdict = verifier.verify("Het aandeel van Philips bleef na een vroege daling verder zakken.", [passage])
    assert verdict.label == "contradicted" and "then zakken" in verdict.reason
    assert label(verifier, "Het aandeel van Philips herstelde sterk na een vroege daling.", [passage]) == "supported"


def test_a_record_since_a_date_said_the_other_way_round_is_no_negation(verifier):
    passage = "Het aandeel van Nvidia verloor maandag net geen 17 procent, de grootste daling sinds maart 2020."
    claim = "Zo'n grote daling als maandag had het aandeel van Nvidia sinds maart 2020 niet meer gekend."
    assert label(verifier, claim, [passage]) != "contradicted"
    # Without "zo'n" the same words deny the fall.
    claim = "Het aandeel van Nvidia verloor maandag niet meer zoveel sinds maart 2020."
    assert label(verifier, claim, [passage]) == "contradicted"


def test_a_statement_the_passage_denies_is_a_contradiction_unless_the_claim_denies_it_too(verifier):
    passage = "Nvidia zag op 27 januari 589 miljard dollar verdampen. De dagen nadien volgde niet echt een noemenswaardig herstel."
    verdict = verifier.verify("De dagen nadien volgde er een noemenswaardig herstel van Nvidia.", [passage])
    assert verdict.label == "contradicted" and verdict.reason.startswith("negation")
    # Saying the recovery stayed away is the passage's own negation.
    claim = "Een noemenswaardig herstel bleef de dagen nadien uit bij Nvidia."
    assert label(verifier, claim, [passage]) != "contradicted"


def test_a_negation_the_passage_holds_in_another_sentence_is_no_contradiction(verifier):
    passage = (
        "Stijn Viaene plaatste vraagtekens bij het opensourcelabel van DeepSeek. "
        "“De methode is openbaar gemaakt, maar we zien nooit de volledige datasets.”"
    )
    claim = "Stijn Viaene plaatste vraagtekens bij het opensourcelabel van DeepSeek: de volledige datasets zijn nooit te zien."
    assert label(verifier, claim, [passage]) != "contradicted"
    claim = "Stijn Viaene plaatste nooit vraagtekens bij het opensourcelabel van DeepSeek."
    assert label(verifier, claim, [passage]) == "contradicted"


def test_a_title_qualified_otherwise_than_the_passage_is_a_contradiction(verifier):
    passage = "De Amerikaanse president Donald Trump noemde de app een wake-upcall voor de Amerikaanse techbedrijven."
    for title in ("vicepresident", "Vice President", "voormalig president"):
        verdict = verifier.verify(f"De Amerikaanse {title} Donald Trump noemde de app een wake-upcall.", [passage])
        assert verdict.label == "contradicted"
        assert verdict.reason == f"role: the passage makes Trump president, not {title}"
    assert label(verifier, "President Donald Trump noemde de app een wake-upcall.", [passage]) == "supported"


def test_a_chief_economist_is_no_fund_manager(verifier):
    passage = "De visie van Clément Inbona, fondsmanager bij La Financière de l’Echiquier."
    for role in ("hoofdeconoom", "chief economist"):
        verdict = verifier.verify(f"De visie van Clément Inbona, {role} bij La Financière de l’Echiquier.", [passage])
        assert verdict.label == "contradicted" and verdict.reason.startswith("role")


def test_amplifying_is_the_opposite_of_damping(verifier):
    passage = "The Deepshift could dampen inflation, which central bankers watch closely."
    verdict = verifier.verify("The Deepshift could amplify inflation, which central bankers watch closely.", [passage])
    assert verdict.label == "contradicted" and verdict.reason.startswith("direction: the claim says amplify")
    assert label(verifier, passage, [passage]) == "supported"


@pytest.mark.parametrize(
    "passage, said, swapped, reason",
    [
        # A name beside "ook" replaces the passage's name beside "ook".
        ("Tot de winnaars van maandag behoort ook Apple, dat met meer dan 3 procent in waarde steeg.",
         "Apple", "Microsoft", "name Microsoft where the passage says Apple"),
        # The start of a range counts what its end counts.
        ("Meta kondigde onlangs aan dit jaar 60 tot 65 miljard dollar uit te geven aan AI-projecten.",
         "60 tot 65", "65 tot 70", "number 70 where the passage says 60"),
        ("De kwaliteit van een groot taalmodel wordt hoofdzakelijk bepaald door de hoeveelheid beschikbare data.",
         "hoofdzakelijk", "uitsluitend", "antonym: the claim says uitsluitend, the passage hoofdzakelijk"),
    ],
)
def test_a_word_swapped_in_the_passage_is_a_contradiction_saying_which(verifier, passage, said, swapped, reason):
    verdict = verifier.verify(passage.replace(said, swapped), [passage])
    assert verdict.label == "contradicted" and verdict.reason == reason


def test_a_place_qualifying_the_same_thing_in_the_sentence_before_is_a_rival(verifier):
    passage = (
        "De Australische minister van Industrie Ed Husic gaat een stap verder. "
        "Hij roept op voorzichtig te zijn bij gebruik van de app."
    )
    claim = "De Britse minister van Industrie Ed Husic roept op voorzichtig te zijn bij gebruik van de app."
    verdict = verifier.verify(claim, [passage])
    assert verdict.label == "contradicted" and verdict.reason == "name Britse where the passage says Australische"
    # A compound counts as the noun it begins with: "tech companies" and "techbedrijven".
    passage = "Trump noemde de app een wake-upcall voor de Amerikaanse techbedrijven."
    verdict = verifier.verify("Trump noemde de app een wake-upcall voor de Europese tech bedrijven.", [passage])
    assert verdict.label == "contradicted" and verdict.reason == "name Europese where the passage says Amerikaanse"


def test_a_denial_in_another_passage_given_contradicts_the_plain_statement(verifier):
    passages = [
        "Zoveel beurswaarde zag Nvidia op 27 januari in één handelsdag verdampen.",
        "De dagen nadien volgde niet echt een noemenswaardig herstel.",
    ]
    claim = "Zoveel beurswaarde zag Nvidia op 27 januari in één handelsdag verdampen, waarna een noemenswaardig herstel volgde."
    verdict = verifier.verify(claim, passages)
    assert verdict.label == "contradicted" and verdict.reason.startswith("negation: the passage says niet")


def test_none_ever_more_is_a_record_not_a_negation(verifier):
    passage = "Het aandeel verloor 589 miljard dollar aan waarde, een record in de Amerikaanse beursgeschiedenis."
    claim = "Geen aandeel verloor ooit meer dan 589 miljard dollar aan waarde in de Amerikaanse beursgeschiedenis."
    assert label(verifier, claim, [passage]) == "supported"
    claim = "Het aandeel verloor geen 589 miljard dollar aan waarde in de Amerikaanse beursgeschiedenis."
    assert label(verifier, claim, [passage]) == "contradicted"


def test_a_negation_in_a_sentence_as_close_as_the_best_one_agrees(verifier):
    passage = (
        "Grootte is misschien toch niet de sleutel tot succes voor de techreuzen. "
        "De techreuzen investeren steeds meer in rekenkracht voor succes."
    )
    claim = "Grootte is misschien niet de sleutel tot succes, en de techreuzen investeren steeds meer in rekenkracht."
    assert label(verifier, claim, [passage]) != "contradicted"


def test_a_party_added_with_also_is_not_contradicted_by_the_passages_direction(verifier):
    verdict = verifier.verify("Ook Microsoft zag zijn waarde dalen.", [PASSAGE])
    assert verdict.label == "not_enough_info" and verdict.reason == "name Microsoft not in the passages"
    # A party of the passages' own beside the added one keeps their direction.
    claim = "Naast Intel zagen ook andere techreuzen, zoals Apple, hun waarde dalen."
    assert label(verifier, claim, ["Tegelijk zagen andere techreuzen, zoals Apple en Meta, hun waarde stijgen."]) == "contradicted"
    # Without "also" the new party replaces the passage's: "Intel" in Meta's place.
    claim = "Tegelijk zagen andere techreuzen, zoals Apple en Intel, hun waarde dalen."
    assert label(verifier, claim) == "contradicted"


def test_a_portfolio_the_passages_minister_does_not_hold_is_a_contradiction(verifier):
    passage = "De Australische minister van Industrie en Wetenschappen Ed Husic roept op voorzichtig te zijn met de app."
    verdict = verifier.verify(passage.replace("Industrie en Wetenschappen", "Financiën"), [passage])
    assert verdict.label == "contradicted"
    assert verdict.reason == "portfolio: the passage's minister is for industry and science, not finance"
    assert label(verifier, passage.replace("Industrie en Wetenschappen", "Wetenschappen en Industrie"), [passage]) == "supported"
    english = "Australian minister for industry and science Ed Husic urged caution when using the app."
    claim = "Australian Industry and Science Minister Ed Husic urged caution when using the app."
    assert label(verifier, claim, [english]) == "supported"  # "Science" is the portfolio, not a new name
    verdict = verifier.verify(claim.replace("Industry and Science", "Foreign"), [english])
    assert verdict.label == "contradicted" and verdict.reason.startswith("portfolio")


def test_a_move_the_other_way_on_another_weekday_is_not_covered(verifier):
    passage = "Het aandeel van Nvidia verloor maandag 17 procent van zijn waarde."
    verdict = verifier.verify("Het aandeel van Nvidia herstelde dinsdag een deel van zijn waarde.", [passage])
    assert verdict.label == "not_enough_info" and verdict.reason == "date tuesday not in the passages"
    verdict = verifier.verify("Het aandeel van Nvidia verloor dinsdag 17 procent van zijn waarde.", [passage])
    assert verdict.label == "contradicted" and verdict.reason == "date tuesday where the passage says Monday"


def test_an_opening_word_the_passages_use_as_a_name_owns_the_claims_amount(verifier):
    passage = "Het aandeel van Nvidia verloor 589 miljard dollar aan waarde. Tegelijk zagen Apple en Meta hun waarde stijgen."
    verdict = verifier.verify("Apple leed maandag een verlies van 589 miljard dollar aan waarde.", [passage])
    assert verdict.label == "contradicted" and verdict.reason == "number 589 belongs to Nvidia in the passage, not Apple"


def test_the_only_one_where_the_passage_lists_another_is_a_contradiction(verifier):
    passage = "Tegelijk zagen andere techreuzen, zoals Apple en Meta, hun waarde stijgen."
    verdict = verifier.verify("Tegelijk zag de techreus Apple als enige hun waarde stijgen.", [passage])
    assert verdict.label == "contradicted" and verdict.reason == "only: the passage names Meta beside Apple"
    assert label(verifier, "Tegelijk zag de techreus Apple net als andere hun waarde stijgen.", [passage]) != "contradicted"


def test_thanks_to_what_the_passage_says_despite_is_a_contradiction(verifier):
    passage = "Deepseek is er ondanks de Amerikaanse beperkingen op de export van computerchips in geslaagd de beste modellen uit te dagen."
    claim = "Dankzij de Amerikaanse beperkingen op de export van computerchips is Deepseek erin geslaagd de beste modellen uit te dagen."
    verdict = verifier.verify(claim, [passage])
    assert verdict.label == "contradicted" and verdict.reason == "cause: the claim says because of what the passage says despite"
    assert label(verifier, claim.replace("Dankzij", "Ondanks"), [passage]) == "supported"


def test_the_same_thing_moved_the_other_way_beside_a_shared_move_is_a_contradiction(verifier):
    passage = "De drempel om AI-modellen te bouwen komt lager te liggen en de concurrentie zal dus flink toenemen."
    verdict = verifier.verify("De drempel om AI-modellen te bouwen komt lager te liggen en de concurrentie zal flink afnemen.", [passage])
    assert verdict.label == "contradicted"
    assert verdict.reason == "direction: the claim says afnemen of concurrentie, the passage toenemen"


def test_a_negation_held_in_another_passage_agrees_with_a_summary(verifier):
    passages = [
        "Grootte is misschien toch niet de sleutel tot succes.",
        "De drempel om AI-modellen te bouwen komt lager te liggen en de concurrentie zal dus toenemen.",
    ]
    claim = "Grootte is misschien niet de sleutel tot succes, en de drempel om AI-modellen te bouwen komt lager te liggen."
    assert label(verifier, claim, passages) != "contradicted"


def test_numbers_listed_before_a_shared_unit_pair_up_respectively(verifier):
    passage = "Ook Larry Ellison en Michael Dell zagen respectievelijk 22,6 miljard en 13 miljard dollar in rook opgaan."
    claim = "Larry Ellison en Michael Dell zagen respectievelijk 22,6 en 13 miljard dollar in rook opgaan."
    assert label(verifier, claim, [passage]) == "supported"
    swapped = "Michael Dell en Larry Ellison zagen respectievelijk 22,6 en 13 miljard dollar in rook opgaan."
    assert label(verifier, swapped, [passage]) == "contradicted"


def test_better_than_what_the_passage_calls_as_good_is_a_contradiction(verifier):
    passage = "The app performs as well as the best AI models of OpenAI and Meta, but cost far less to develop."
    claim = "DeepSeek's chatbot outperforms the best AI models of OpenAI and Meta, but cost far less to develop."
    verdict = verifier.verify(claim, [passage])  # "DeepSeek's chatbot" is what the passage calls "the app"
    assert verdict.label == "contradicted" and verdict.reason == "comparison: the claim says outperforms, the passage as well as"


def test_a_place_after_a_copula_qualifies_the_subject(verifier):
    passage = "The tech giants kept outbidding each other, as in the megalomaniac American Stargate project of 500 billion dollars."
    verdict = verifier.verify("The Stargate project of 500 billion dollars is a Chinese initiative.", [passage])
    assert verdict.label == "contradicted" and verdict.reason == "name Chinese where the passage says American"


def test_where_something_happened_is_no_rival_of_a_country_that_acts(verifier):
    passage = "Hoewel de Verenigde Staten strenge exportbeperkingen hebben opgelegd, lijkt DeepSeek toegang te hebben tot Nvidia-chips."
    verdict = verifier.verify("DeepSeek zou zijn Nvidia-chips via tussenhandelaars in Singapore hebben gekocht.", [passage])
    assert verdict.label == "not_enough_info" and verdict.reason == "name Singapore not in the passages"


def test_a_chief_scientist_is_no_ceo(verifier):
    passage = "Sam Altman, de CEO van OpenAI, prees zijn nieuwe Chinese concurrent."
    verdict = verifier.verify("Sam Altman, OpenAI's chief scientist, prees zijn nieuwe Chinese concurrent.", [passage])
    assert verdict.label == "contradicted" and verdict.reason == "role: the passage makes Sam Altman CEO of OpenAI, not scientist"


def test_a_negation_beside_words_the_claim_lacks_is_no_contradiction(verifier):
    passage = (
        "Het model van DeepSeek werd ontwikkeld zonder Nvidia's geavanceerde H100-chips. "
        "Dat ondermijnt het narratief dat enorme kapitaalinvesteringen essentieel zijn voor innovatie."
    )
    claim = "Dat zet het narratief onder druk dat enorme kapitaalinvesteringen essentieel zijn voor innovatie."
    assert label(verifier, claim, [passage]) != "contradicted"
    claim = "Het model van DeepSeek werd ontwikkeld met Nvidia's geavanceerde H100-chips."
    assert label(verifier, claim, [passage]) == "contradicted"  # the negated words are the claim's own


def test_a_day_of_the_month_anchors_no_direction_and_a_denied_recovery_is_one_in_any_form(verifier):
    passage = "Nvidia zag op 27 januari 589 miljard dollar verdampen. De dagen nadien volgde niet echt een noemenswaardig herstel."
    claim = "Na het verlies van 589 miljard dollar op 27 januari herstelde Nvidia de dagen daarna nauwelijks."
    assert label(verifier, claim, [passage]) != "contradicted"
    verdict = verifier.verify("De dagen na 27 januari herstelde Nvidia zich noemenswaardig.", [passage])
    assert verdict.label == "contradicted" and verdict.reason.startswith("negation: the passage")
    # "herstelde" is the "herstel" the passage denies (one stem), in any passage given.
    passages = ["Nvidia zag op 27 januari 589 miljard dollar verdampen.", "De dagen nadien volgde niet echt een noemenswaardig herstel."]
    verdict = verifier.verify("Nvidia zag op 27 januari 589 miljard dollar verdampen en herstelde zich noemenswaardig.", passages)
    assert verdict.label == "contradicted"
    assert verdict.reason == "negation: the passage says niet … noemenswaardig herstel, the claim does not negate it"


def test_also_after_a_long_name_adds_a_party(verifier):
    passage = "De S&P 500-index sloot 1,5 procent lager, terwijl de Nasdaq volgens Bloomberg 3 procent daalde."
    verdict = verifier.verify("De Dow Jones Industrial Average sloot ook lager.", [passage])
    assert verdict.label == "not_enough_info" and verdict.reason == "name Dow Jones Industrial Average not in the passages"


def test_a_bound_on_an_amount_holds_for_the_values_beyond_it(verifier):
    passage = "Jensen Huang verloor maandag 20,1 miljard dollar, wat neerkomt op een vijfde van zijn vermogen."
    assert label(verifier, "Jensen Huang verloor maandag meer dan tien miljard dollar.", [passage]) == "supported"
    verdict = verifier.verify("Jensen Huang verloor maandag meer dan 30 miljard dollar.", [passage])
    assert verdict.label == "contradicted" and verdict.reason == "number 30 where the passage says 20.1"
    # A bound on a plain number is not met by whatever larger number the passage has.
    verdict = verifier.verify("Jensen Huang verloor maandag 20,1 miljard dollar, na meer dan 10 jaar aan de top.", [passage])
    assert verdict.label == "not_enough_info" and verdict.reason == "number 10 not in the passages"


def test_a_name_opening_a_sentence_is_a_rival_when_the_passages_use_it_mid_sentence(verifier):
    passage = (
        "Meta-oprichter Mark Zuckerberg zag zijn fortuin toenemen met 4,3 miljard dollar. "
        "Dat kwam doordat het aandeel van Meta sterk herstelde."
    )
    claim = "Mark Zuckerberg zag zijn fortuin toenemen met 4,3 miljard dollar doordat het aandeel van Amazon sterk herstelde."
    verdict = verifier.verify(claim, [passage])
    assert verdict.label == "contradicted" and verdict.reason == "name Amazon where the passage says Meta"


def test_a_role_with_its_field_before_aan_binds_the_person(verifier):
    passage = (
        "Eerder plaatste Stijn Viaene bij Trends vraagtekens bij het opensourcelabel. "
        "Viaene is professor digitale transformatie aan Vlerick Business School."
    )
    verdict = verifier.verify("Stijn Viaene, journalist bij Trends, plaatste vraagtekens bij het opensourcelabel.", [passage])
    assert verdict.label == "contradicted"
    assert verdict.reason == "role: the passage makes Stijn Viaene professor of Vlerick Business School, not journalist of Trends"


def test_a_quote_given_to_someone_the_passages_never_name_is_a_contradiction(verifier):
    passage = "Sam Altman, de CEO van OpenAI, prees zijn concurrent. “R1 is een indrukwekkend model voor die prijs”, stelde hij op X."
    verdict = verifier.verify("“R1 is een indrukwekkend model voor die prijs”, stelde Jensen Huang op X.", [passage])
    assert verdict.label == "contradicted" and "not Jensen Huang, said it in the passage" in verdict.reason


def test_what_the_passage_only_asks_is_not_stated(verifier):
    passage = "Veel vragen blijven nog onbeantwoord, met name welke dataset er gebruikt werd en of het auteursrecht is nageleefd."
    verdict = verifier.verify("Bij het trainen werd het auteursrecht nageleefd en werd een bekende dataset gebruikt.", [passage])
    assert verdict.label != "supported"
    verdict = verifier.verify("Er werd een dataset gebruikt waarbij het auteursrecht is nageleefd.", [passage])
    assert verdict.label == "not_enough_info" and verdict.reason.startswith("open question: the passage asks welke")
    # A claim that keeps the doubt is not told it states what is asked.
    verdict = verifier.verify("Het blijft onbeantwoord welke dataset er gebruikt werd en of het auteursrecht is nageleefd.", [passage])
    assert not (verdict.reason or "").startswith("open question")


def test_not_every_one_fell_agrees_with_some_rising(verifier):
    passage = "De daling van Nvidia volgde op het nieuws. Tegelijk zagen andere techreuzen, zoals Apple en Meta, hun waarde stijgen."
    assert label(verifier, "Tegelijk zagen niet alle andere techreuzen hun waarde dalen na het nieuws van Nvidia.", [passage]) == "supported"
    assert label(verifier, "Tegelijk zagen alle techreuzen hun waarde dalen.", [passage]) == "contradicted"


def test_never_before_is_a_record_not_a_negation(verifier):
    passage = "Het aandeel verloor 589 miljard dollar aan waarde, een record in de Amerikaanse beursgeschiedenis."
    claim = "Never before had a share lost 589 billion dollars in value in the American stock market history."
    assert label(verifier, claim, [passage.replace("Het aandeel verloor 589 miljard dollar", "The share lost 589 billion dollars")]) == "supported"


def test_another_office_for_the_same_person_is_a_contradiction(verifier):
    passage = "De Australische minister van Industrie en Wetenschappen Ed Husic roept op voorzichtig te zijn met de app."
    verdict = verifier.verify("De Australische premier Ed Husic roept op voorzichtig te zijn met de app.", [passage])
    assert verdict.label == "contradicted" and verdict.reason == "role: the passage makes Husic minister, not prime minister"
    assert label(verifier, "De Australische minister Ed Husic roept op voorzichtig te zijn met de app.", [passage]) == "supported"


def test_a_sole_role_given_to_someone_else_is_a_contradiction(verifier):
    passage = "Sam Altman, de CEO van OpenAI, prees zijn nieuwe Chinese concurrent."
    verdict = verifier.verify("OpenAI-CEO Elon Musk prees zijn nieuwe Chinese concurrent.", [passage])
    assert verdict.label == "contradicted" and verdict.reason == "role: the passage makes Sam Altman CEO of OpenAI, not Elon Musk"


def test_a_ranges_start_has_its_ends_unit(verifier):
    passage = "Meta kondigde onlangs aan dit jaar 60 tot 65 miljard dollar uit te geven aan AI-projecten."
    claim = "Meta kondigde onlangs aan dit jaar tussen de 60.000 en 65.000 miljoen dollar uit te geven aan AI-projecten."
    assert label(verifier, claim, [passage]) == "supported"


def test_a_sum_the_claim_says_is_one_holds_for_the_passages_amounts_together(verifier):
    passage = "Jensen Huang verloor 20,1 miljard dollar. Larry Ellison en Michael Dell zagen respectievelijk 22,6 miljard en 13 miljard dollar in rook opgaan."
    claim = "Jensen Huang, Larry Ellison en Michael Dell zagen samen meer dan 55 miljard dollar in rook opgaan."
    assert label(verifier, claim, [passage]) == "supported"
    verdict = verifier.verify(claim.replace("meer dan 55", "meer dan 60"), [passage])
    assert verdict.label != "supported"
