"""Rendered parts of pages kept in the cache under a digest of what they show.

``{% fragment "name" a b c %}…{% endfragment %}`` renders its body once for each
distinct content of ``a``, ``b`` and ``c`` and serves it from the cache after that. The
key is a digest of the values themselves (see :func:`fingerprint`), of the reader's
language, of today's date and of the project's code, so nothing has to be invalidated:
a row written, a deviation resolved, a template changed, midnight passed, and the next
request looks under a new key. A fragment is therefore exact at every request, as long
as its body reads nothing but the values it names; names read from the context that
are not among them are the one way to go wrong, and ``FRAGMENT_CACHE_CHECK`` (on in the
tests) catches it: every hit is rendered again and compared, and a difference raises.

What a fragment may depend on: model instances (every concrete field as loaded, the
related rows loaded with them, their prefetched rows and the attributes a selector set
on them), querysets (their rows, read once), dataclasses, mappings, sequences and plain
values, and forms (what was entered, the errors, the choices offered, read into lists
first). Anything else (a paginator's page, a lazy choice iterator) is refused with ``TypeError``, so
that an input that cannot be digested is found when the page is written, not when a
reader sees a stale answer. A fragment holds nothing particular to one reader's
session: no form with a CSRF token.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import functools
import hashlib
import pickle
import uuid
from pathlib import Path

from django import template
from django.conf import settings
from django.core.cache import cache
from django.db.models import Model, QuerySet
from django.dispatch import receiver
from django.forms import BaseForm
from django.forms.widgets import ChoiceWidget
from django.utils import timezone, translation
from django.utils.autoreload import file_changed
from django.utils.functional import Promise
from django.utils.safestring import mark_safe

register = template.Library()

# The project's own sources whose change changes what a fragment renders.
_SOURCE_DIRS = ("accounts", "applications", "scheduling", "supervision", "integration", "yekuo")
_SOURCE_SUFFIXES = (".py", ".html", ".mo")

# Kept a week after their last write: a fragment whose content moved on is never read
# again and leaves the cache by then (Redis) or by culling (the file cache).
TIMEOUT_SECONDS = 7 * 24 * 3600

_PLAIN = (
    str,
    int,
    float,
    bool,
    bytes,
    decimal.Decimal,
    datetime.date,
    datetime.time,
    datetime.timedelta,
    uuid.UUID,
    enum.Enum,
)
# Values taken into the digest as they are: pickled exactly, with their type.
_EXACT = frozenset(
    {str, int, float, bool, bytes, type(None), decimal.Decimal, datetime.date}
    | {datetime.datetime, datetime.time, datetime.timedelta, uuid.UUID}
)


class FragmentMismatch(AssertionError):
    """A fragment served from the cache differs from its body rendered now: the body
    reads something its key does not name."""


@functools.cache
def code_stamp() -> str:
    """Return a digest of the project's templates, Python sources and translations (read
    once per process): a deployment that changes them changes every fragment's key."""
    digest = hashlib.blake2b(digest_size=16)
    base = Path(settings.BASE_DIR)
    paths = [base / "templates", *(base / name for name in _SOURCE_DIRS), base / "locale"]
    for root in paths:
        for path in sorted(root.rglob("*")):
            if path.suffix in _SOURCE_SUFFIXES and path.is_file():
                digest.update(str(path.relative_to(base)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


@receiver(file_changed)
def _source_changed(sender, file_path, **kwargs) -> None:
    """Under ``runserver``, a template edited takes effect without a restart: so does its
    place in the keys."""
    code_stamp.cache_clear()


def fingerprint(*values) -> str:
    """Return a digest that changes whenever any of ``values`` changes in what a page
    could show of it (see the module's docstring for what is digested)."""
    # Pickled rather than written out: the same values give the same bytes on the same
    # code path, different values always different bytes, and it is 2.5 times as fast.
    written = pickle.dumps(_plain(values, {}), protocol=5)
    return hashlib.blake2b(written, digest_size=20).hexdigest()


def _plain(value, seen: dict[int, tuple[int, object]]):
    """Return ``value`` as nested tuples of plain values, the digest's input (written in
    one pass, not value by value).

    A row or a dataclass met again (a related row pointing back) is written as the number
    of its first meeting; ``seen`` keeps each met object with its number, so that no id is
    reused by another object while the digest is made."""
    kind = type(value)
    if kind in _EXACT:
        return value
    if isinstance(value, _PLAIN):  # subclasses: enumerations, choices
        return (kind.__qualname__, value)
    if isinstance(value, Promise):  # a lazy translation: its text in this language
        return str(value)
    if isinstance(value, Model):
        return _instance(value, seen)
    if isinstance(value, QuerySet):  # its rows, read once: the body iterates the same
        return _plain(list(value), seen)
    if isinstance(value, BaseForm):
        return _form(value, seen)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if id(value) in seen:
            return ("^", seen[id(value)][0])
        seen[id(value)] = (len(seen), value)
        return (
            kind.__qualname__,
            *(_plain(getattr(value, field.name), seen) for field in dataclasses.fields(value)),
        )
    if isinstance(value, dict):
        return ("{", *((_plain(k, seen), _plain(v, seen)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        items = tuple(_plain(item, seen) for item in value)
        # A list a selector marked (``rows.more``) shows its marks too.
        extras = getattr(value, "__dict__", None)
        return (items, _plain(extras, seen)) if extras else items
    if isinstance(value, set | frozenset):
        return ("(", *sorted((_plain(item, seen) for item in value), key=repr))
    raise TypeError(
        f"a page fragment cannot depend on a {kind.__qualname__}: name the values it shows"
    )


def _form(form: BaseForm, seen: dict) -> tuple:
    """A form as shown: what was entered and its errors, and each field's widget with the
    choices it offers (read already: a model choice field's are read by its form)."""
    data = dict(form.data.lists()) if hasattr(form.data, "lists") else form.data
    fields = []
    for name, field in form.fields.items():
        # The choices a select offers (a field typed into offers none).
        choices = (
            getattr(field, "choices", None) if isinstance(field.widget, ChoiceWidget) else None
        )
        if choices is not None and not isinstance(choices, list | tuple):
            raise TypeError(
                f"a page fragment cannot show the field {name!r} of {type(form).__qualname__} "
                "until its choices are read into a list"
            )
        offered = tuple((str(key), str(label)) for key, label in choices or ())
        fields.append((name, type(field.widget).__qualname__, offered))
    errors = {name: [str(e) for e in found] for name, found in form.errors.items()}
    return (
        type(form).__qualname__,
        form.prefix,
        form.auto_id,
        _plain(data, seen),
        _plain(form.initial, seen) if not form.is_bound else None,
        tuple(fields),
        _plain(errors, seen) if form.is_bound else None,
    )


@functools.lru_cache(maxsize=1024)
def _shown_names(names: tuple[str, ...]) -> tuple[str, ...]:
    """The attribute names of a row that say what it holds (a row's names come in a few
    shapes, one per query: worked out once for each)."""
    return tuple(name for name in names if name[0] != "_")


def _instance(instance: Model, seen: dict) -> tuple:
    """A row as loaded: its fields and the attributes a selector set on it, the related
    rows loaded with it and its prefetched rows."""
    label = instance._meta.label
    if id(instance) in seen:  # met again further down (a related row pointing back)
        return ("^", seen[id(instance)][0])
    seen[id(instance)] = (len(seen), instance)
    fields = instance.__dict__
    # Its fields and what a selector set on it; the names with an underscore are Django's
    # and its libraries' bookkeeping (the row's state, a state machine's first states).
    names = _shown_names(tuple(fields))
    values = tuple(map(fields.__getitem__, names))
    if not set(map(type, values)) <= _EXACT:
        values = tuple(v if type(v) in _EXACT else _plain(v, seen) for v in values)
    out = [label, names, values]
    prefetched = fields.get("_prefetched_objects_cache")
    if prefetched:
        out.append({name: _plain(list(rows), seen) for name, rows in prefetched.items()})
    related = instance._state.fields_cache
    if related:
        out.append(("@", *((name, _plain(row, seen)) for name, row in related.items())))
    return tuple(out)


class FragmentNode(template.Node):
    def __init__(self, nodelist, name, inputs):
        self.nodelist, self.name, self.inputs = nodelist, name, inputs

    def render(self, context):
        if not settings.FRAGMENT_CACHE:
            return self.nodelist.render(context)
        values = [value.resolve(context) for value in self.inputs]
        key = "fragment:{}:{}".format(
            self.name,
            fingerprint(
                code_stamp(),
                translation.get_language(),
                timezone.localdate(),
                values,
            ),
        )
        kept = cache.get(key)
        if kept is not None and not settings.FRAGMENT_CACHE_CHECK:
            return mark_safe(kept)
        rendered = self.nodelist.render(context)
        if kept is None:
            cache.set(key, str(rendered), TIMEOUT_SECONDS)
        elif kept != rendered:
            raise FragmentMismatch(
                f"the fragment {self.name!r} rendered differently with the same inputs: its "
                "body reads a value its {% fragment %} tag does not name"
            )
        return rendered


@register.tag
def fragment(parser, token):
    """``{% fragment "name" value… %}…{% endfragment %}``: the body, cached under a
    digest of the values it shows (see the module's docstring)."""
    bits = token.split_contents()
    if len(bits) < 3:
        raise template.TemplateSyntaxError(
            f"{bits[0]} takes a quoted name and the values the fragment shows"
        )
    name = bits[1]
    if not (name[0] == name[-1] and name[0] in "\"'"):
        raise template.TemplateSyntaxError(f"{bits[0]}: the name must be quoted, got {name}")
    if any("=" in bit.split("|")[0] for bit in bits[2:]):
        raise template.TemplateSyntaxError(f"{bits[0]}: name the values, without key=value")
    nodelist = parser.parse(("endfragment",))
    parser.delete_first_token()
    return FragmentNode(nodelist, name[1:-1], [parser.compile_filter(bit) for bit in bits[2:]])
