"""Page fragments cached under a digest of what they show: a change of what they show, of
the reader's language or of the day gives a new key; nothing else is needed to stay
exact, and a body that reads more than its key names is caught."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import pytest
import time_machine
from django import forms
from django.template import Context, Template, TemplateSyntaxError
from django.utils import translation
from django.utils.autoreload import file_changed

from accounts.models import Department
from applications.models import Application
from scheduling.models import Deviation
from tests.dates import SHANGHAI
from tests.factories import make_application
from tests.pages.conftest import open_deviation
from yekuo.fragments import FragmentMismatch, code_stamp, fingerprint
from yekuo.shown import Shown

pytestmark = pytest.mark.django_db


@dataclass
class Bar:
    label: str
    value: int


class Choosing(forms.Form):
    department = forms.ModelChoiceField(queryset=Department.objects.all(), required=False)
    days = forms.IntegerField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = list(iter(self.fields["department"].choices))


@pytest.fixture
def deviation(supervisor, manager):
    application = make_application(by=supervisor, manager=manager)
    open_deviation(application, "F", severity="red", delay=4)
    return application


def _rows(application):
    return list(
        Deviation.objects.filter(application=application).select_related(
            "application__customer", "activity"
        )
    )


def test_the_same_rows_read_twice_give_the_same_key(deviation):
    assert fingerprint(_rows(deviation)) == fingerprint(_rows(deviation))


def test_a_field_of_a_row_or_of_a_row_loaded_with_it_changes_the_key(deviation):
    before = fingerprint(_rows(deviation))
    Deviation.objects.filter(application=deviation).update(delay=5)
    after_delay = fingerprint(_rows(deviation))
    deviation.customer.name = "另一家公司"
    deviation.customer.save(update_fields=["name"])
    after_name = fingerprint(_rows(deviation))
    assert len({before, after_delay, after_name}) == 3


def test_what_a_selector_set_on_a_row_and_its_prefetched_rows_count(deviation):
    row = Application.objects.prefetch_related("activities").get(pk=deviation.pk)
    plain = fingerprint(row)
    row.risk_level = "late"
    marked = fingerprint(row)
    activity = row.activities.all()[0]
    activity.name = "另一个名字"
    assert len({plain, marked, fingerprint(row)}) == 3


def test_plain_values_lists_marks_and_dataclasses_are_told_apart():
    values = [
        1,
        "1",
        Decimal("1"),
        1.0,
        True,
        None,
        datetime(2026, 12, 8, 9, 30, tzinfo=SHANGHAI),
        [1, 2],
        (2, 1),
        {"a": 1},
        {1, 2},
        Bar("a", 1),
        Bar("a", 2),
        Shown(rows=[1, 2], more=False),
        Shown(rows=[1, 2], more=True),
    ]
    assert len({fingerprint(value) for value in values}) == len(values)


def test_a_value_met_again_is_told_from_another_met_before():
    first, second = Bar("a", 1), Bar("b", 2)
    assert fingerprint([first, second, first]) != fingerprint([first, second, second])
    assert fingerprint([first, second, first]) == fingerprint([first, second, first])


def test_a_form_is_keyed_on_what_was_entered_its_errors_and_its_choices(supervisor):
    Department.objects.create(code="T1", name="运检部")
    empty = fingerprint(Choosing())
    entered = fingerprint(Choosing({"days": "3"}))
    wrong = fingerprint(Choosing({"days": "三"}))
    assert fingerprint(Choosing({"days": "3"})) == entered
    Department.objects.create(code="T2", name="营销部")
    more_choices = fingerprint(Choosing())
    assert len({empty, entered, wrong, more_choices}) == 4


def test_what_cannot_be_digested_is_refused():
    with pytest.raises(TypeError, match="cannot depend on a object"):
        fingerprint(object())
    lazy = forms.Form()
    lazy.fields["department"] = forms.ModelChoiceField(queryset=Department.objects.all())
    with pytest.raises(TypeError, match="until its choices are read into a list"):
        fingerprint(lazy)


class Counting:
    """A value whose every reading is counted (the body of a fragment read it)."""

    def __init__(self):
        self.reads = 0

    def __str__(self):
        self.reads += 1
        return "counted"


FRAGMENT = Template(
    '{% load fragments %}{% fragment "t" n %}{{ n }} {{ counter }}{% endfragment %}'
)


def _render(**context):
    return FRAGMENT.render(Context(context))


@pytest.fixture
def n():
    """A value no earlier run rendered: with Redis as the cache, fragments outlive a run."""
    return uuid.uuid4().hex


def test_a_fragment_is_rendered_once_per_content_then_served(settings, n):
    settings.FRAGMENT_CACHE_CHECK = False
    counter = Counting()
    first = _render(n=n, counter=counter)
    again = _render(n=n, counter=counter)
    other = _render(n=n + "-2", counter=counter)
    assert (first, again, other) == (f"{n} counted", f"{n} counted", f"{n}-2 counted")
    assert counter.reads == 2  # the second was served from the cache


def test_with_the_cache_off_every_request_renders_the_body(settings, n):
    settings.FRAGMENT_CACHE_CHECK = False
    settings.FRAGMENT_CACHE = False
    counter = Counting()
    for _ in range(3):
        assert _render(n=n, counter=counter) == f"{n} counted"
    assert counter.reads == 3


def test_a_new_day_or_another_language_renders_again(settings, n):
    settings.FRAGMENT_CACHE_CHECK = False
    counter = Counting()
    with time_machine.travel(datetime(2026, 12, 31, 23, 50, tzinfo=SHANGHAI), tick=False):
        _render(n=n, counter=counter)
        _render(n=n, counter=counter)
    with time_machine.travel(datetime(2027, 1, 1, 0, 10, tzinfo=SHANGHAI), tick=False):
        _render(n=n, counter=counter)
        with translation.override("en"):
            _render(n=n, counter=counter)
    assert counter.reads == 3


def test_a_source_changed_under_runserver_changes_every_key(settings, tmp_path):
    settings.BASE_DIR = tmp_path
    (tmp_path / "templates").mkdir()
    page = tmp_path / "templates" / "page.html"
    page.write_text("<p>one</p>")
    code_stamp.cache_clear()
    before = code_stamp()
    page.write_text("<p>two</p>")
    assert code_stamp() == before  # read once per process
    file_changed.send(sender=None, file_path=page)
    assert code_stamp() != before
    code_stamp.cache_clear()


def test_a_body_reading_a_value_its_key_does_not_name_is_caught(settings, n):
    settings.FRAGMENT_CACHE_CHECK = True
    _render(n=n, counter="one")
    assert _render(n=n, counter="one") == f"{n} one"  # rendered again and equal
    with pytest.raises(FragmentMismatch, match="'t' rendered differently"):
        _render(n=n, counter="two")


@pytest.mark.parametrize(
    "source",
    [
        "{% fragment %}{% endfragment %}",
        '{% fragment "t" %}{% endfragment %}',
        "{% fragment t n %}{% endfragment %}",
        '{% fragment "t" n=1 %}{% endfragment %}',
    ],
)
def test_a_fragment_tag_without_a_quoted_name_and_values_is_a_template_error(source):
    with pytest.raises(TemplateSyntaxError):
        Template("{% load fragments %}" + source)
