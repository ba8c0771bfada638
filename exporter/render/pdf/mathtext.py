"""Simple LaTeX formulas set as HTML text (italic variables, Unicode symbols, sub- and
superscripts) in the sans text face, for the PDFs.

Text formulas match the surrounding type (same face, same digits), keep the line spacing
even (scripts have no line height of their own), are searchable and copyable, and cost
WeasyPrint a few glyphs instead of an SVG drawing of hundreds of path numbers. What this
subset cannot set well (fractions of groups, roots, matrices, growing delimiters,
environments) returns None and is drawn by ziamath (:mod:`exporter.render.pdf.math`).
"""

from __future__ import annotations

import html
import re

_TOKEN = re.compile(r"\\[A-Za-z]+\*?|\\.|\s+|.", re.DOTALL)

GREEK = {
    name: chr(code)
    for name, code in {
        "alpha": 0x3B1, "beta": 0x3B2, "gamma": 0x3B3, "delta": 0x3B4, "epsilon": 0x3F5,
        "varepsilon": 0x3B5, "zeta": 0x3B6, "eta": 0x3B7, "theta": 0x3B8, "vartheta": 0x3D1,
        "iota": 0x3B9, "kappa": 0x3BA, "lambda": 0x3BB, "mu": 0x3BC, "nu": 0x3BD,
        "xi": 0x3BE, "pi": 0x3C0, "rho": 0x3C1, "sigma": 0x3C3, "tau": 0x3C4,
        "upsilon": 0x3C5, "phi": 0x3D5, "varphi": 0x3C6, "chi": 0x3C7, "psi": 0x3C8,
        "omega": 0x3C9,
    }.items()
}  # fmt: skip
UPPER_GREEK = {
    "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π",
    "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
}  # fmt: skip
SYMBOLS = {
    "cdot": "·", "times": "×", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "ne": "≠",
    "neq": "≠", "approx": "≈", "sim": "∼", "in": "∈", "notin": "∉", "to": "→",
    "rightarrow": "→", "leftarrow": "←", "Rightarrow": "⇒", "implies": "⇒",
    "leftrightarrow": "↔", "mapsto": "↦", "infty": "∞", "partial": "∂", "nabla": "∇",
    "sum": "∑", "prod": "∏", "int": "∫", "top": "⊤", "odot": "⊙", "otimes": "⊗",
    "oplus": "⊕", "circ": "∘", "ldots": "…", "dots": "…", "cdots": "⋯", "pm": "±",
    "mp": "∓", "mid": "∣", "propto": "∝", "lVert": "‖", "rVert": "‖", "|": "‖",
    "Vert": "‖", "vert": "|", "lvert": "|", "rvert": "|", "{": "{", "}": "}",
    "langle": "⟨", "rangle": "⟩", "forall": "∀", "exists": "∃", "ell": "ℓ", "star": "⋆",
    "ast": "∗", "perp": "⊥", "cup": "∪", "cap": "∩", "subset": "⊂", "subseteq": "⊆",
    "emptyset": "∅", "neg": "¬", "land": "∧", "lor": "∨", "setminus": "∖", "equiv": "≡",
    "triangleq": "≜", "gg": "≫", "ll": "≪", "uparrow": "↑", "downarrow": "↓",
    "prime": "′", "gets": "←", "lfloor": "⌊", "rfloor": "⌋", "lceil": "⌈", "rceil": "⌉", "#": "#",
    "%": "%", "&": "&", "_": "_", "$": "$", "colon": ":", "dagger": "†",
}  # fmt: skip
SPACES = {
    ",": "\u2009", ";": "\u2005", ":": "\u2005", "!": "", " ": " ", "quad": "\u2003",
    "qquad": "\u2003\u2003", "enspace": "\u2002", "thinspace": "\u2009",
}  # fmt: skip
FUNCTIONS = {
    "log", "ln", "exp", "max", "min", "arg", "argmax", "argmin", "sin", "cos", "tan",
    "tanh", "sinh", "cosh", "lim", "det", "sup", "inf", "dim", "ker", "Pr", "sgn",
    "softmax", "sign", "tr", "mod",
}  # fmt: skip
ACCENTS = {"hat": "\u0302", "bar": "\u0304", "tilde": "\u0303", "vec": "\u20d7", "dot": "\u0307"}
DOUBLE_STRUCK = {"R": "ℝ", "N": "ℕ", "Z": "ℤ", "Q": "ℚ", "C": "ℂ", "E": "𝔼", "P": "ℙ", "1": "𝟙"}
SCRIPT = {
    "L": "ℒ", "B": "ℬ", "E": "ℰ", "F": "ℱ", "H": "ℋ", "I": "ℐ", "M": "ℳ", "R": "ℛ",
}  # fmt: skip
IGNORED = {"displaystyle", "textstyle", "limits", "nolimits", "left", "right", "big",
           "Big", "bigl", "bigr", "Bigl", "Bigr", "middle"}  # fmt: skip
OPERATORS = set("+=<>−×·≤≥≠≈∼∈→←⇒↔↦±∓∝⊙⊗⊕∘≡≜≪≫∪∩⊂⊆∖")


class Unsupported(Exception):
    """The formula needs a real math layout."""


def to_html(latex: str) -> str | None:
    """The formula as HTML text, or None when it needs ziamath."""
    if len(latex) > 400:
        return None
    tokens = [t for t in _TOKEN.findall(latex)]
    try:
        parser = _Parser(tokens)
        body = parser.sequence(stop=None)
    except (Unsupported, IndexError):
        return None
    return body.strip()


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> str | None:
        while self.pos < len(self.tokens) and self.tokens[self.pos].isspace():
            self.pos += 1
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def next(self) -> str:
        token = self.peek()
        if token is None:
            raise Unsupported("end of formula")
        self.pos += 1
        return token

    def group_tokens(self) -> list[str]:
        """The raw tokens of a braced group (or one token)."""
        token = self.next()
        if token != "{":
            return [token]
        depth, out = 1, list[str]()
        while True:
            if self.pos >= len(self.tokens):
                raise Unsupported("unbalanced braces")
            t = self.tokens[self.pos]
            self.pos += 1
            if t == "{":
                depth += 1
            elif t == "}":
                depth -= 1
                if depth == 0:
                    return out
            out.append(t)

    def argument(self) -> str:
        """A braced group (or one symbol, or one command with its arguments) as HTML."""
        if self.peek() != "{":
            return self.atom()
        return _Parser(self.group_tokens()).sequence(stop=None)

    def sequence(self, stop: str | None) -> str:
        out: list[str] = []
        while True:
            token = self.peek()
            if token is None or token == stop:
                if stop is not None:
                    self.next()
                return "".join(out)
            atom = self.atom()
            out.append(self.scripts(atom))

    def scripts(self, atom: str) -> str:
        sup = sub = None
        while self.peek() in ("^", "_"):
            kind = self.next()
            value = self.argument()
            if kind == "^":
                if sup is not None:
                    raise Unsupported("double superscript")
                sup = value
            else:
                if sub is not None:
                    raise Unsupported("double subscript")
                sub = value
        if sup is not None and sub is not None:
            return (
                f'{atom}<span class="m-ss"><span class="m-sup">{sup}</span>'
                f'<span class="m-sub">{sub}</span></span>'
            )
        if sup is not None:
            return f'{atom}<sup class="m-sup">{sup}</sup>'
        if sub is not None:
            return f'{atom}<sub class="m-sub">{sub}</sub>'
        return atom

    def atom(self) -> str:
        token = self.next()
        if token == "{":
            return self.sequence(stop="}")
        if token in ("^", "_"):
            raise Unsupported("script without base")
        if token == "}":
            raise Unsupported("unbalanced braces")
        if token.startswith("\\"):
            return self.command(token[1:])
        if token.isalpha():
            return f"<i>{html.escape(token)}</i>"
        if token == "-":
            return '<span class="m-op">−</span>'
        if token in "+=<>":
            return f'<span class="m-op">{html.escape(token)}</span>'
        if token == "'":
            return "′"
        if token == "~":
            return "\u00a0"
        if token == "&":
            raise Unsupported("alignment")
        return html.escape(token)

    def command(self, name: str) -> str:
        if name in IGNORED:
            return ""
        if name in GREEK:
            return f"<i>{GREEK[name]}</i>"
        if name in UPPER_GREEK:
            return UPPER_GREEK[name]
        if name in SPACES:
            return SPACES[name]
        if name in SYMBOLS:
            symbol = SYMBOLS[name]
            if symbol in OPERATORS:
                return f'<span class="m-op">{symbol}</span>'
            if symbol in "∑∏∫":
                return f'<span class="m-big">{symbol}</span>'
            return html.escape(symbol)
        if name in FUNCTIONS:
            return f'<span class="m-fn">{name}</span>'
        if name in ("text", "textrm", "mathrm", "operatorname", "textit", "mbox"):
            raw = "".join(self.group_tokens())
            if "\\" in raw or "$" in raw:
                raise Unsupported("markup inside text")
            text = html.escape(raw)
            if name == "operatorname":
                return f'<span class="m-fn">{text}</span>'
            return f'<span class="m-tx">{text}</span>'
        if name in ("mathbf", "bm", "boldsymbol", "textbf"):
            inner = self.argument()
            if name == "mathbf" or name == "textbf":
                inner = re.sub(r"</?i>", "", inner)
            return f"<b>{inner}</b>"
        if name in ("mathit",):
            return f"<i>{re.sub(r'</?i>', '', self.argument())}</i>"
        if name == "mathbb":
            raw = "".join(self.group_tokens()).strip()
            if raw not in DOUBLE_STRUCK:
                raise Unsupported("double-struck letter")
            return DOUBLE_STRUCK[raw]
        if name == "mathcal":
            raw = "".join(self.group_tokens()).strip()
            if raw not in SCRIPT:
                raise Unsupported("script letter")
            return SCRIPT[raw]
        if name in ACCENTS:
            raw = "".join(self.group_tokens()).strip()
            if name == "hat" and raw.startswith("\\mathbf"):
                raise Unsupported("accent on bold")
            if len(raw) != 1 or not raw.isalpha():
                raise Unsupported("accent on a group")
            return f"<i>{html.escape(raw)}{ACCENTS[name]}</i>"
        if name == "sqrt":
            if self.peek() == "[":
                raise Unsupported("root with an index")
            tokens = self.group_tokens()
            inner = _Parser(tokens).sequence(stop=None)
            if len([t for t in tokens if not t.isspace()]) == 1:
                return f"√{inner}"
            return f"√({inner})"
        if name in ("frac", "tfrac", "dfrac"):
            numerator = self.group_tokens()
            denominator = self.group_tokens()
            if not (_simple(numerator) and _simple(denominator)):
                raise Unsupported("fraction of groups")
            top = _Parser(numerator).sequence(stop=None)
            bottom = _Parser(denominator).sequence(stop=None)
            return f"{top}/{bottom}"
        raise Unsupported(name)


def _simple(tokens: list[str]) -> bool:
    """A fraction part that reads unambiguously after a slash: one symbol or number."""
    visible = [t for t in tokens if not t.isspace()]
    if len(visible) == 1:
        return True
    return all(t.isdigit() or t == "." for t in visible)


def plain(latex: str) -> str:
    """A readable one-line text form of any formula (for the text layer of a drawing)."""
    frac = re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
    while frac.search(latex):
        latex = frac.sub(r"(\1)/(\2)", latex)
    out = []
    for token in _TOKEN.findall(latex):
        if token.startswith("\\"):
            name = token[1:]
            token = GREEK.get(name) or UPPER_GREEK.get(name) or SYMBOLS.get(name) or ""
            if not token and name in FUNCTIONS:
                token = name
            if not token and name in SPACES:
                token = " "
        elif token in "{}":
            token = ""
        elif token == "-":
            token = "−"
        out.append(token)
    return re.sub(r"\s+", " ", "".join(out)).strip()
