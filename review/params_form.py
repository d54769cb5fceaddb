"""The form of a label field's classifier settings (``glamml.ml.textclf``'s parameters)."""

from __future__ import annotations

from typing import Any

from django import forms

from glamml.ml.textclf import DEFAULT_PARAMS, ParamError, check_params
from glamml.ml.textclf.params import CALIBRATED_BY, CALIBRATION_METHODS

BAD_NGRAMS = "{name} must be MIN-MAX (e.g. 1-2), one length (e.g. 3) or “none”; it says “{text}”."
NONE_WORDS = ("none", "no", "off", "-")


def _ngram_text(value: list[int] | None) -> str:
    return "none" if value is None else f"{value[0]}-{value[1]}"


def _number_input(step: str, inputmode: str = "numeric") -> forms.TextInput:
    # A text input, not type=number: the browser would drop "2.5" or "ten" silently, and the
    # server is what names the bad parameter.
    return forms.TextInput(attrs={"inputmode": inputmode, "data-step": step, "class": "short"})


class ModelParamsForm(forms.Form):
    """A label field's classifier settings; ``glamml.ml.textclf.check_params`` says what is
    wrong and the error is put beside the setting it names. A blank box keeps the default
    (for ``max_features``: no limit)."""

    word_ngrams = forms.CharField(
        required=False,
        max_length=20,
        label="word_ngrams: word n-grams",
        help_text="Lengths of word sequences read, MIN-MAX, or “none” to leave words out.",
    )
    char_ngrams = forms.CharField(
        required=False,
        max_length=20,
        label="char_ngrams: character n-grams",
        help_text="Lengths of letter sequences read within words, MIN-MAX, or “none”.",
    )
    max_features = forms.CharField(
        required=False,
        max_length=20,
        label="max_features: features kept",
        help_text="Per kind of n-gram, most frequent first; blank for no limit.",
        widget=_number_input("1"),
    )
    min_df = forms.CharField(
        required=False,
        max_length=20,
        label="min_df: fewest records per feature",
        help_text="An n-gram in fewer records than this is ignored.",
        widget=_number_input("1"),
    )
    C = forms.CharField(
        required=False,
        max_length=20,
        label="C: regularisation",
        help_text="Larger follows the training examples more closely; smaller generalises more.",
        widget=_number_input("any", "decimal"),
    )
    class_weight = forms.ChoiceField(
        choices=[("balanced", "balanced"), ("none", "none")],
        label="class_weight: label balance",
        help_text="balanced: a rare label's examples count more; none: every example the same.",
    )
    calibration = forms.ChoiceField(
        choices=[(m, m) for m in CALIBRATION_METHODS],
        label="calibration: how confidence is calibrated",
        help_text="; ".join(f"{m}: {CALIBRATED_BY[m]}" for m in CALIBRATION_METHODS) + ".",
    )
    folds = forms.CharField(
        required=False,
        max_length=20,
        label="folds: calibration folds",
        help_text="Cross-fitting folds for the calibration (at least 2).",
        widget=_number_input("1"),
    )
    max_chars = forms.CharField(
        required=False,
        max_length=20,
        label="max_chars: characters read",
        help_text="A record's text is cut after this many characters.",
        widget=_number_input("1"),
    )
    seed = forms.CharField(
        required=False,
        max_length=20,
        label="seed: random seed",
        help_text="The same seed and data give the same model.",
        widget=_number_input("1"),
    )

    @classmethod
    def for_params(cls, params: dict[str, Any], data: Any = None) -> ModelParamsForm:
        initial = {
            **params,
            "word_ngrams": _ngram_text(params["word_ngrams"]),
            "char_ngrams": _ngram_text(params["char_ngrams"]),
            "max_features": "" if params["max_features"] is None else params["max_features"],
            "C": f"{params['C']:g}",
            "class_weight": params["class_weight"] or "none",
        }
        return cls(data, initial=initial)

    @staticmethod
    def written(params: dict[str, Any]) -> dict[str, str]:
        """Each setting as the form writes it ("1-2", "none", "10"); "–" where not recorded."""
        shown = {}
        for name in DEFAULT_PARAMS:
            value = params.get(name, "–")
            if name == "calibration" and isinstance(value, dict):  # a trained model's record
                value = value.get("method", "–")
            if isinstance(value, list) and len(value) == 2:
                shown[name] = _ngram_text(value)
            elif value is None:
                shown[name] = "none"
            elif name == "C" and isinstance(value, int | float):
                shown[name] = f"{value:g}"
            else:
                shown[name] = str(value)
        return shown

    def rows(self, *, trained: dict[str, str] | None) -> list[tuple[Any, str, str | None]]:
        """(bound field, default, the active version's value) for each setting."""
        defaults = self.written(DEFAULT_PARAMS)
        return [
            (self[name], defaults[name], trained[name] if trained else None)
            for name in DEFAULT_PARAMS
        ]

    def _ngrams(self, name: str) -> list[int] | None:
        text = self.cleaned_data[name].strip()
        if not text:
            return list(DEFAULT_PARAMS[name])
        if text.lower() in NONE_WORDS:
            return None
        parts = text.replace("–", "-").replace(",", "-").replace(" ", "-").split("-")
        parts = [p for p in parts if p]
        if len(parts) == 1:
            parts *= 2
        if len(parts) != 2 or not all(p.isdigit() for p in parts):
            raise forms.ValidationError(BAD_NGRAMS.format(name=name, text=text))
        return [int(p) for p in parts]

    def clean_word_ngrams(self) -> list[int] | None:
        return self._ngrams("word_ngrams")

    def clean_char_ngrams(self) -> list[int] | None:
        return self._ngrams("char_ngrams")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.errors:
            return data
        params = {name: data[name] for name in DEFAULT_PARAMS}
        for name in ("min_df", "C", "folds", "max_chars", "seed"):
            params[name] = params[name].strip() or DEFAULT_PARAMS[name]
        params["max_features"] = params["max_features"].strip() or None
        params["class_weight"] = None if params["class_weight"] == "none" else "balanced"
        # Each setting alone first, so that every bad one is named at once, then together.
        for name, value in params.items():
            try:
                check_params({name: value})
            except ParamError as exc:
                self.add_error(name, str(exc))
        if self.errors:
            return data
        try:
            data["params"] = check_params(params)
        except ParamError as exc:
            self.add_error(exc.param if exc.param in self.fields else None, str(exc))
        return data

    def problems(self) -> list[str]:
        """Every error, each naming its parameter (for the summary above the form)."""
        named = []
        for name, errors in self.errors.items():
            for error in (str(e) for e in errors):
                if name == "__all__" or error.startswith(name):
                    named.append(error)
                else:
                    named.append(f"{name}: {error}")
        return named
