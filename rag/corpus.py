"""Read article files into cleaned `Article`s: text, metadata and a content hash.

`load_corpus(docs_dir)` reads every `.txt`, `.md`, `.html` and `.htm` file directly in
`docs_dir` (sorted by name) and returns the articles plus the files it skipped, each with the
reason; one broken file never stops the rest. `read_article(path, max_bytes)` reads one file
and raises `ArticleError(reason)`. `clean_text(text)` normalises whitespace and Unicode and
removes page furniture (captions, cookie notices, "Partner Content", ...).

Metadata (title, author, source, date) comes from an optional sidecar `<id>.meta.json`, which
wins over everything, else from the file's own conventions:

- `.txt`: a first line `date 2025-02 Clément Inbona (LFDE): ‘Deepshift’` gives date, author and
  title and is removed from the text. A parenthetical after the author is the affiliation: it
  becomes the source ("LFDE") and is not part of the author. Otherwise the first non-empty line
  is the title and stays in the text as the headline. A byline `Sebastien Marien Redacteur bij
  Trends` gives author and source and stays in the text; a scraped line that is exactly the
  start of the next line (`Sebastien Marien` above that byline) is dropped.
- `.md`: `---` front matter with `key: value` lines, else the first `# ` heading is the title.
  Markup is stripped minimally (heading hashes, emphasis, links -> their text, images removed).
- `.html`/`.htm`: trafilatura extracts the main text and the metadata. Everything a reader of
  the page never sees is dropped first (`visible_html`): scripts, styles, `hidden` elements and
  elements that inline styles or simple stylesheet rules hide (display:none, zero size or
  opacity, off-screen, white on white), so instructions hidden there never reach the article.

The article id is the file stem; the title falls back to it. Dates are never invented: a date
that is not stated stays None.

Not here: chunking (rag/chunking.py), language detection, sub-directories, encodings other
than UTF-8 (such files are skipped with a reason, not guessed).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import unicodedata
from dataclasses import asdict
from pathlib import Path
from typing import NamedTuple

from rag.errors import ArticleError
from rag.types import Article, ArticleMeta, SkippedFile

log = logging.getLogger(__name__)

FORMATS = {".txt": "text", ".md": "markdown", ".html": "html", ".htm": "html"}
SIDECAR_SUFFIX = ".meta.json"
META_KEYS = ("title", "author", "source", "date")
MAX_TITLE_CHARS = 200

# Page furniture: each pattern matches text to delete from the whole text, after spaces are
# collapsed and lines trimmed. Line patterns are anchored with ^...$ (re.MULTILINE) and must not
# match a newline; a real sentence that matches one of them is lost, so keep them specific.
FURNITURE: tuple[re.Pattern[str], ...] = (
    # photo captions and credits: "Tim Cook, CEO van Apple ... © David Paul Morris/Bloomberg"
    re.compile(r"^.*©.*$", re.M),
    re.compile(r"^(?:.*[.!?)] )?(?:Foto|FOTO|Beeld|BEELD|Illustratie) ?: ?[^.!?\n]{0,80}$", re.M),
    # cookie walls in place of embedded content
    re.compile(
        r"^.*(?:cookie-?keuzes|cookie-?voorkeuren|cookie-?instellingen"
        r"|inhoud op deze pagina wordt momenteel geblokkeerd).*$",
        re.M | re.I,
    ),
    re.compile(r"^.*Fout opgemerkt of meer nieuws\?.*$|^Meld het hier$", re.M | re.I),
    # "Partner Content" on its own line, or glued to the end of the file
    re.compile(r"^(?:Partner ?Content|PARTNER CONTENT)$|(?:Partner ?Content|PARTNER CONTENT)\s*\Z",
               re.M),
    re.compile(r"^(?:Lees ook|Lees meer|Lees verder)\b.*$", re.M | re.I),
    re.compile(r"^(?:Advertentie|Advertorial|Advertisement|Gesponsorde inhoud)$", re.M | re.I),
    re.compile(
        r"^.*(?:Schrijf je (?:hier )?in (?:voor|op) (?:onze|de|ons) nieuwsbrief"
        r"|Meld je (?:hier )?aan voor (?:onze|de|ons) nieuwsbrief|Abonneer je (?:nu )?op"
        r"|Word (?:nu )?abonnee).*$",
        re.M | re.I,
    ),
    # share buttons: a line made only of share words
    re.compile(
        r"^(?:(?:Deel (?:dit artikel|via)|Delen|Share|Facebook|Twitter|X|LinkedIn|WhatsApp"
        r"|E-?mail|Kopieer (?:de )?link|Print)[ :|,/·•]*)+$",
        re.M | re.I,
    ),
)

_REMOVED = "\x00"  # marks removed furniture; NUL never survives _clean_char
# Characters that show nothing but can carry text no reader sees: zero-width and direction
# marks, Unicode tags (U+E0000..E007F, ASCII in disguise) and variation selectors (U+FE00..FE0F,
# U+E0100..E01EF, which can hide bytes behind a visible letter). The pipeline strips questions
# with the same set.
INVISIBLE = re.compile(
    "[\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ufe00-\ufe0f"
    "\U000e0000-\U000e007f\U000e0100-\U000e01ef]"
)
_QUOTES = "‘’'\"“”„«»‹›"
_ISO_DATE = re.compile(r"\d{4}(?:-\d{2}(?:-\d{2})?)?")
_DATE_LINE = re.compile(
    r"date\s+(?P<date>\d{4}(?:-\d{2}(?:-\d{2})?)?)\s+(?P<author>[^:\n]+?)\s*:\s*(?P<title>.+)",
    re.I,
)
_AFFILIATION = re.compile(r"(?P<name>.+?)\s*\((?P<affiliation>[^()]+)\)")
_BYLINE = re.compile(
    r"(?P<author>[^\W\d_][^\n:]{1,60}?)\s+"
    r"(?:Redacteur|Redactrice|Journalist|Journaliste|Correspondent|Verslaggever|Hoofdredacteur"
    r"|Eindredacteur|Columnist|Medewerker)\s+(?:bij|van|voor)\s+(?P<source>[^\n]{2,60})",
    re.I,
)
_BYLINE_SCAN_LINES = 10


class _FileMeta(NamedTuple):
    title: str | None = None
    author: str | None = None
    source: str | None = None
    date: str | None = None


def load_corpus(
    docs_dir: Path, max_bytes: int = 5_000_000
) -> tuple[list[Article], list[SkippedFile]]:
    """Every article file directly in `docs_dir`, by name; broken files are skipped with a reason.

    When two files share a stem (`a.md`, `a.txt`), the first by name is loaded and the
    second is skipped. Raises ArticleError when `docs_dir` is not a directory.
    """
    docs_dir = Path(docs_dir)
    if not docs_dir.is_dir():
        raise ArticleError(f"articles directory not found: {docs_dir}")
    articles: list[Article] = []
    skipped: list[SkippedFile] = []
    loaded: dict[str, Path] = {}
    for path in sorted(docs_dir.iterdir(), key=lambda p: p.name):
        if path.name.startswith(".") or path.name.endswith(SIDECAR_SUFFIX) or path.is_dir():
            continue
        try:
            if path.stem in loaded and path.suffix.lower() in FORMATS:
                first = loaded[path.stem].name
                raise ArticleError(
                    f"duplicate article id '{path.stem}': already loaded from {first}"
                )
            article = read_article(path, max_bytes)
        except ArticleError as error:
            log.warning("skipped %s: %s", path, error)
            skipped.append(SkippedFile(path=str(path), reason=str(error)))
            continue
        loaded[article.id] = path
        articles.append(article)
    return articles, skipped


def read_article(path: Path, max_bytes: int) -> Article:
    """One cleaned article; raises ArticleError with the reason it cannot be used."""
    path = Path(path)
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        shown = path.suffix or "(none)"
        raise ArticleError(
            f"unsupported file type '{shown}': expected one of .txt, .md, .html, .htm"
        )
    raw = _read_text(path, max_bytes)
    sidecar = _read_sidecar(path)
    if kind == "text":
        text, found = _parse_txt(raw)
    elif kind == "markdown":
        text, found = _parse_markdown(raw)
    else:
        text, found = _parse_html(raw)
    if not text:
        raise ArticleError("no article text left after cleaning")
    meta = ArticleMeta(
        id=path.stem,
        title=sidecar.get("title") or found.title or path.stem,
        author=sidecar["author"] if "author" in sidecar else found.author,
        source=sidecar["source"] if "source" in sidecar else found.source,
        date=sidecar["date"] if "date" in sidecar else found.date,
    )
    return Article(meta=meta, text=text, path=str(path), content_hash=content_hash(meta, text))


def content_hash(meta: ArticleMeta, text: str) -> str:
    """sha256 hex of a canonical JSON of the metadata and the cleaned text."""
    canonical = json.dumps(
        {"meta": asdict(meta), "text": text},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def clean_text(text: str) -> str:
    """Normalised text without page furniture.

    `\\r\\n` -> `\\n`, invisible (`INVISIBLE`), control and other format characters removed,
    NFC (tabs and Unicode spaces become spaces), spaces collapsed, lines trimmed, furniture
    removed, 3+ newlines -> one blank line, surrounding whitespace stripped.

    >>> clean_text("Kop\\r\\n\\r\\n\\r\\nEen  zin.\\u200b\\nPartner Content")
    'Kop\\n\\nEen zin.'
    """
    text = INVISIBLE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = "".join(_clean_char(c) for c in unicodedata.normalize("NFC", text))
    text = "\n".join(re.sub(r" {2,}", " ", line).strip() for line in text.split("\n"))
    for pattern in FURNITURE:
        text = pattern.sub(_REMOVED, text)
    # a line that was all furniture goes away with its newline: it leaves no blank line
    lines = (line.replace(_REMOVED, "").strip() for line in text.split("\n") if line != _REMOVED)
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _clean_char(c: str) -> str:
    if c == "\n":
        return c
    category = unicodedata.category(c)
    if c == "\t" or category in ("Zs", "Zl", "Zp"):
        return " "
    if category in ("Cc", "Cf", "Co", "Cs"):
        return ""
    return c


def _read_text(path: Path, max_bytes: int) -> str:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise ArticleError(f"file too large: {size} bytes, the limit is {max_bytes}")
        data = path.read_bytes()
    except OSError as error:
        raise ArticleError(f"cannot read file: {error.strerror or error}") from None
    if not data:
        raise ArticleError("empty file")
    if len(data) > max_bytes:  # grew between stat and read
        raise ArticleError(f"file too large: {len(data)} bytes, the limit is {max_bytes}")
    if b"\x00" in data:
        raise ArticleError("binary file: contains NUL bytes")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ArticleError(f"not UTF-8 text: invalid byte at offset {error.start}") from None


def _read_sidecar(path: Path) -> dict[str, str | None]:
    """The keys the sidecar sets (a key set to null means "not known"); {} without a sidecar."""
    sidecar = path.with_name(path.stem + SIDECAR_SUFFIX)
    if not sidecar.exists():
        return {}
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        where = f"line {error.lineno} column {error.colno}"
        raise ArticleError(f"invalid sidecar {sidecar.name}: {error.msg} at {where}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ArticleError(f"cannot read sidecar {sidecar.name}: {error}") from None
    if not isinstance(data, dict):
        raise ArticleError(f"invalid sidecar {sidecar.name}: expected a JSON object")
    unknown = sorted(set(data) - set(META_KEYS))
    if unknown:
        raise ArticleError(
            f"invalid sidecar {sidecar.name}: unknown key(s) {', '.join(unknown)};"
            f" allowed: {', '.join(META_KEYS)}"
        )
    meta: dict[str, str | None] = {}
    for key, value in data.items():
        if value is not None and not isinstance(value, str):
            raise ArticleError(f"invalid sidecar {sidecar.name}: '{key}' must be a string or null")
        meta[key] = _clean_field(value)
    date = meta.get("date")
    if date is not None and not _ISO_DATE.fullmatch(date):
        raise ArticleError(
            f"invalid sidecar {sidecar.name}: date '{date}' is not YYYY, YYYY-MM or YYYY-MM-DD"
        )
    return meta


def _parse_txt(raw: str) -> tuple[str, _FileMeta]:
    lines = clean_text(raw).split("\n")
    title = author = source = date = None
    header = _DATE_LINE.fullmatch(lines[0]) if lines else None
    if header:
        date = header["date"]
        title = header["title"].strip(_QUOTES + " ") or None
        author, source = _split_affiliation(header["author"])
        lines = lines[1:]
    lines = _drop_repeated_prefix_lines(lines)
    text = "\n".join(lines).strip()
    if title is None:
        first = next((line for line in lines if line), "")
        title = first if len(first) <= MAX_TITLE_CHARS else None
    byline = _find_byline(lines)
    if byline:
        author = author or byline[0]
        source = source or byline[1]
    return text, _FileMeta(title, author, source, date)


def _split_affiliation(author: str) -> tuple[str | None, str | None]:
    """"Clément Inbona (LFDE)" -> ("Clément Inbona", "LFDE")."""
    author = author.strip()
    match = _AFFILIATION.fullmatch(author)
    if match:
        return match["name"], match["affiliation"].strip()
    return author or None, None


def _drop_repeated_prefix_lines(lines: list[str]) -> list[str]:
    """Drop a line that is exactly the start of the next line (a scraped duplicate name)."""
    kept = []
    for i, line in enumerate(lines):
        following = lines[i + 1] if i + 1 < len(lines) else ""
        short = 0 < len(line) <= 60 and not line.endswith((".", "!", "?", ":"))
        if short and following.startswith(line + " "):
            continue
        kept.append(line)
    return kept


def _find_byline(lines: list[str]) -> tuple[str, str] | None:
    for line in [line for line in lines if line][:_BYLINE_SCAN_LINES]:
        match = _BYLINE.fullmatch(line)
        if match:
            return match["author"].strip(), match["source"].strip().rstrip(".")
    return None


def _parse_markdown(raw: str) -> tuple[str, _FileMeta]:
    raw = raw.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    front: dict[str, str] = {}
    match = re.match(r"---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", raw, re.S)
    if match:
        for line in match[1].split("\n"):
            key, sep, value = line.partition(":")
            if sep and key.strip():
                front[key.strip().lower()] = value.strip().strip(_QUOTES).strip()
        raw = raw[match.end():]
    heading = re.search(r"^#[ \t]+(.+?)[ \t#]*$", raw, re.M)
    text = clean_text(_strip_markdown(raw))
    title = front.get("title") or (heading[1] if heading else None)
    return text, _FileMeta(
        title=_clean_field(_strip_markdown(title)) if title else None,
        author=front.get("author") or None,
        source=front.get("source") or None,
        date=_iso_prefix(front.get("date")),
    )


def _strip_markdown(text: str) -> str:
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)|!\[[^\]]*\]\[[^\]]*\]", "", text)  # images
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)  # inline links
    text = re.sub(r"\[([^\]]+)\]\[[^\]]*\]", r"\1", text)  # reference links
    text = re.sub(r"^\s*\[[^\]]+\]:\s*\S+.*$", "", text, flags=re.M)  # link definitions
    text = re.sub(r"^[ \t]*#{1,6}[ \t]+(.*?)[ \t#]*$", r"\1", text, flags=re.M)  # headings
    text = re.sub(r"^[ \t]*(?:-{3,}|\*{3,}|_{3,})[ \t]*$", "", text, flags=re.M)  # rules
    text = re.sub(r"^[ \t]*>[ \t]?", "", text, flags=re.M)  # block quotes
    text = re.sub(r"(\*\*|__|~~)(?=\S)(.+?)(?<=\S)\1", r"\2", text)  # strong, strike
    text = re.sub(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])", r"\1", text)  # emphasis
    text = re.sub(r"(?<![\w_])_(?=\S)(.+?)(?<=\S)_(?![\w_])", r"\1", text)
    return text


def _parse_html(raw: str) -> tuple[str, _FileMeta]:
    import trafilatura

    visible = visible_html(raw)
    options = dict(include_comments=False, include_tables=False, favor_precision=True)
    try:
        extracted = trafilatura.extract(visible, output_format="txt", with_metadata=False, **options)
        found = trafilatura.extract_metadata(visible) if extracted else None
    except Exception as error:  # a third-party parser: any failure means "unusable HTML"
        raise ArticleError(f"cannot parse the HTML: {error}") from None
    if not extracted or not extracted.strip() or found is None:
        raise ArticleError("no article text found in the HTML")
    # trafilatura puts one block (paragraph, heading) per line: make them paragraphs
    text = clean_text("\n\n".join(line for line in extracted.split("\n") if line.strip()))
    return text, _FileMeta(
        title=_clean_field(found.title),
        author=_clean_field(found.author),
        source=_clean_field(found.sitename),
        date=_iso_prefix(found.date),
    )


# --- text a reader never sees ----------------------------------------------------------------
# Hidden text is where a page smuggles instructions to a language model, so it is dropped
# before extraction: scripts, styles, `hidden` and `aria-hidden` elements, and elements whose
# inline style or a simple stylesheet rule (`.x`, `#x`, `p.x`, `div .x`, `div > .x`) hides
# them: display:none, visibility:hidden, opacity:0, font-size:0, off-screen positions, a
# 0/1-pixel clipped box, or text in (nearly) the colour of its background (white on white).
# Not seen: hiding by scripts, by selectors this does not parse (attributes, pseudo-classes),
# by external stylesheets, or by text over an image.

_NEVER_SHOWN = frozenset({"script", "style", "noscript", "template"})
_NAMED_COLOURS = {"white": (255, 255, 255), "black": (0, 0, 0)}
_COLOUR = re.compile(r"#[0-9a-f]{6}\b|#[0-9a-f]{3}\b|rgba?\([^)]*\)|\b(?:white|black|transparent)\b")
_LENGTH = re.compile(r"(-?\d*\.?\d+)(px|em|rem|pt|%|vw|vh)?$")
_SELECTOR_PART = re.compile(r"([a-z][a-z0-9]*|\*)?((?:[.#][\w-]+)*)", re.IGNORECASE)


def visible_html(raw: str) -> str:
    """The HTML without the elements a reader of the page never sees (their tail text stays).

    >>> visible_html('<p>Zichtbaar. <span style="color:#fff">Verborgen.</span> Ook.</p>')
    '<html><body><p>Zichtbaar.  Ook.</p></body></html>'
    """
    import lxml.html
    from lxml import etree

    try:
        tree = lxml.html.document_fromstring(raw)
    except ValueError:  # a string with an XML encoding declaration
        tree = lxml.html.document_fromstring(raw.encode("utf-8"))
    except etree.ParserError as error:
        raise ArticleError(f"cannot parse the HTML: {error}") from None
    styles: dict = {}  # element -> its declarations: stylesheet rules first, inline style wins
    for sheet in tree.iter("style"):
        for xpath, declarations in _stylesheet_rules(sheet.text_content()):
            for element in tree.xpath(xpath):
                styles.setdefault(element, {}).update(declarations)
    for element in tree.xpath("//*[@style]"):
        styles.setdefault(element, {}).update(_declarations(element.get("style")))
    hidden = [
        element
        for element in tree.iter()
        if isinstance(element.tag, str) and element.getparent() is not None
        and _is_hidden(element, styles)
    ]
    dropped = set(hidden)
    for element in hidden:
        if not any(ancestor in dropped for ancestor in element.iterancestors()):
            element.drop_tree()
    return lxml.html.tostring(tree, encoding="unicode")


def _is_hidden(element, styles: dict) -> bool:
    if element.tag in _NEVER_SHOWN:
        return True
    if element.get("hidden") is not None or (element.get("aria-hidden") or "").lower() == "true":
        return True
    style = styles.get(element)
    if not style:
        return False
    if style.get("display") == "none" or style.get("visibility") in ("hidden", "collapse"):
        return True
    if _number(style.get("opacity")) == 0 or _number(style.get("font-size")) == 0:
        return True
    off_screen = style.get("position") in ("absolute", "fixed") and any(
        _length(style, side, 0) <= -1000 for side in ("left", "top", "right")
    )
    if off_screen or _length(style, "text-indent", 0) <= -1000:
        return True
    clipped = any(_length(style, side, 2) <= 1 for side in ("width", "height"))
    if style.get("overflow") == "hidden" and clipped:
        return True
    if re.fullmatch(r"rect\(0(px)?[, ]+0(px)?[, ]+0(px)?[, ]+0(px)?\)", style.get("clip", "")):
        return True
    colour = _colour(style.get("color"))
    if colour == "transparent":
        return True
    if colour is not None:
        background = _background(element, styles)
        if max(abs(a - b) for a, b in zip(colour, background)) <= 16:
            return True
    return False


def _background(element, styles: dict) -> tuple[int, int, int]:
    """The nearest declared background colour of the element or an ancestor; white if none."""
    for candidate in (element, *element.iterancestors()):
        style = styles.get(candidate) or {}
        for key in ("background-color", "background"):
            found = _COLOUR.search(style.get(key, ""))
            colour = _colour(found[0]) if found else None
            if colour is not None and colour != "transparent":
                return colour
    return _NAMED_COLOURS["white"]


def _colour(value: str | None) -> tuple[int, int, int] | str | None:
    """(r, g, b), "transparent", or None when `value` is not a colour this understands."""
    if not value:
        return None
    value = value.replace(" ", "").lower()
    if value == "transparent":
        return value
    if value in _NAMED_COLOURS:
        return _NAMED_COLOURS[value]
    if re.fullmatch(r"#[0-9a-f]{3}", value):
        value = "#" + "".join(c * 2 for c in value[1:])
    if re.fullmatch(r"#[0-9a-f]{6}", value):
        return tuple(int(value[i : i + 2], 16) for i in (1, 3, 5))
    match = re.fullmatch(r"rgba?\((\d+),(\d+),(\d+)(?:,([\d.]+)%?)?\)", value)
    if match:
        if match[4] is not None and float(match[4]) == 0:
            return "transparent"
        return tuple(min(255, int(match[i])) for i in (1, 2, 3))
    return None


def _number(value: str | None) -> float | None:
    """The number of a CSS length or number ("0", "-9999px", "0.5em"); None for others."""
    match = _LENGTH.match(value.replace(" ", "")) if value else None
    return float(match[1]) if match else None


def _length(style: dict[str, str], name: str, default: float) -> float:
    value = _number(style.get(name))
    return default if value is None else value


def _declarations(style: str) -> dict[str, str]:
    """`"Color: #FFF; display:none !important"` -> {"color": "#fff", "display": "none"}."""
    found = {}
    for declaration in style.split(";"):
        name, sep, value = declaration.partition(":")
        if sep:
            value = value.lower().replace("!important", "").strip()
            found[name.strip().lower()] = value
    return found


def _stylesheet_rules(css: str) -> list[tuple[str, dict[str, str]]]:
    """(XPath, declarations) for each rule with selectors this understands; @-blocks such as
    `@media print` are skipped, since they apply to other media or conditions."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    css = re.sub(r"@[^{;]*\{(?:[^{}]*\{[^{}]*\})*[^{}]*\}|@[^{;]*;", "", css)
    rules = []
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        declarations = _declarations(body)
        for selector in selectors.split(","):
            xpath = _selector_xpath(selector.strip())
            if xpath:
                rules.append((xpath, declarations))
    return rules


def _selector_xpath(selector: str) -> str | None:
    """`div > p.x #y` -> an XPath; None for selectors outside that simple grammar.

    >>> _selector_xpath("p.x")
    "//p[contains(concat(' ', normalize-space(@class), ' '), ' x ')]"
    """
    path, axis = "", "//"
    for token in re.sub(r"\s*>\s*", " > ", selector).split():
        if token == ">":
            axis = "/"
            continue
        match = _SELECTOR_PART.fullmatch(token)
        if not match:
            return None
        step = (match[1] or "*").lower()  # tag names are case-insensitive, classes and ids not
        for kind, name in re.findall(r"([.#])([\w-]+)", match[2]):
            if kind == ".":
                step += f"[contains(concat(' ', normalize-space(@class), ' '), ' {name} ')]"
            else:
                step += f"[@id='{name}']"
        path, axis = path + axis + step, "//"
    return path or None


def _clean_field(value: str | None) -> str | None:
    if value is None:
        return None
    value = "".join(_clean_char(c) for c in unicodedata.normalize("NFC", INVISIBLE.sub("", value)))
    value = re.sub(r"\s+", " ", value).strip()
    return value or None


def _iso_prefix(value: str | None) -> str | None:
    """The ISO date at the start of `value` ("2025-01-28T10:00" -> "2025-01-28"), else None."""
    match = _ISO_DATE.match(value.strip()) if value else None
    return match[0] if match else None
