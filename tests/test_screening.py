"""Red-flag screening (DESIGN.md §6) in the core and in the web pages."""

import pytest

from limber.core.screening import QUESTIONS, ScreeningError, evaluate
from limber.practice.models import Screening
from tests.conftest import clear_answers


def test_the_five_red_flags_of_the_design_are_asked():
    text = " ".join(q.text.lower() for q in QUESTIONS)
    for words in ("both legs", "weakness", "genitals", "urine", "bowels"):
        assert words in text


@pytest.mark.parametrize("flag", [q.id for q in QUESTIONS])
def test_any_single_red_flag_stops_practice_with_an_urgent_message(flag):
    result = evaluate({**clear_answers(), flag: True})
    assert result.flagged and result.flags == (flag,)
    assert "urgent medical care" in result.message


def test_no_red_flags_lets_practice_start():
    result = evaluate(clear_answers())
    assert not result.flagged and "not a medical device" in result.message


def test_unanswered_questions_are_refused():
    with pytest.raises(ScreeningError) as e:
        evaluate({"both_legs": False})
    assert e.value.field == "answers.weakness"


@pytest.mark.django_db
def test_screening_page_sends_a_flagged_user_to_care_and_keeps_the_answer(client, alice):
    client.force_login(alice)
    answers = {q.id: "no" for q in QUESTIONS} | {"saddle_numbness": "yes"}
    page = client.post("/screening/", answers)
    assert page.status_code == 200
    assert b"Please seek urgent medical care" in page.content
    assert Screening.objects.get(user=alice).flagged
    # The player will not start; it sends the user back to the questions.
    assert client.get("/practice/").url == "/screening/"
    # Answered again later without a red flag: practice may start.
    client.post("/screening/", {q.id: "no" for q in QUESTIONS})
    assert client.get("/practice/").status_code == 200
    assert Screening.objects.filter(user=alice).count() == 2


@pytest.mark.django_db
def test_screening_page_requires_every_answer(client, alice):
    client.force_login(alice)
    page = client.post("/screening/", {"both_legs": "no"})
    assert page.status_code == 400
    assert b"Please answer every question" in page.content
    assert Screening.objects.count() == 0
