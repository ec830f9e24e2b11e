"""Text from the inputs made safe for a report: secrets in URLs redacted, control and bidi characters shown.

Every report format passes every string it prints from an input (titles, keys, paths, messages and
suggestions that quote the input, reasons, URLs) through this module, so that a hostile .bib file cannot:

- drive the terminal or a CI log viewer: C0 and C1 control characters (an ESC starts colour, clear-screen
  and window-title sequences; U+009B is a one-character CSI) are shown as `\\x1b`, `\\x9b`;
- reorder what the reader sees (Trojan Source, CVE-2021-42574): the bidi embeddings, overrides, isolates
  and marks (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C) and the line and paragraph separators
  (U+2028, U+2029) are shown as `\\u202e` and so on;
- hide text from the reader: invisible format characters (zero width space U+200B, word joiner and
  invisible operators U+2060-U+2064, U+206A-U+206F, the byte order mark U+FEFF, U+180E, interlinear
  annotation U+FFF9-U+FFFB) and the Unicode tag characters (U+E0000-U+E007F, which spell out hidden ASCII
  for a program reading a pull-request comment) are shown as `\\u200b`, `\\U000e0041`; the joiners
  U+200C and U+200D, which some scripts and emoji need, are kept;
- leak a credential a URL carries: its userinfo (`https://user:pass@host`) and the values of token-like
  query or fragment parameters (token, access_token, api_key, key, sig, signature, password, secret, auth,
  X-Amz-Signature, ...) become `REDACTED`, also in an address inside an address (a Wayback Machine copy,
  `?url=...`), written out or percent-encoded;
- leak a credential anywhere else in the text, in a URL's path or not: the value of an `Authorization:`
  header, a `Bearer` token, and tokens whose shape their issuer fixed (GitHub `ghp_`/`github_pat_`,
  GitLab `glpat-`, Slack `xox?-` and webhook paths, Discord and Telegram bot paths, AWS access key ids,
  Google API keys, Stripe and OpenAI secret keys, npm and PyPI tokens, JSON Web Tokens) become `REDACTED`.
  Shapes only: a long hexadecimal path segment (a commit, a hash) is not a secret and stays;
- run GitHub Actions workflow commands (`::add-mask::`, `##[stop-commands]`) from a line of a report that a
  CI job prints, or notify people and load images from a pull-request comment (see `markdown`).

The escapes are shown, not stripped, so that a reader learns the input holds them. The JSON report keeps
each string exact apart from the redaction (JSON's own escaping makes every character inert there; see
`json_text`), since a program reading it may need the text as written.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable
from typing import Any

from kratomref import lazy

REDACTED = "REDACTED"

# C0 controls but tab and newline, DEL, C1; then bidi controls and the Unicode line separators.
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_INVISIBLE = "\u180e\u200b\u2060-\u2064\u206a-\u206f\ufeff\ufff9-\ufffb\U000e0000-\U000e007f"
_UNSAFE = "\x00-\x08\x0b-\x1f\x7f-\x9f" + _BIDI + _INVISIBLE + "\u2028\u2029"
_UNSAFE_RE = lazy.regex(f"[{_UNSAFE}]")
_UNSAFE_OR_NEWLINE_RE = lazy.regex(f"[{_UNSAFE}\n]")

# A URL as it appears in running text: a scheme, "://", then anything up to a space, quote or bracket.
_URL_RE = lazy.regex(r"(?i)\b[a-z][a-z0-9+.\-]{0,30}://[^\s\"'<>`{}|\\^]+")
_PARAM_RE = lazy.regex(r"(?<=[?&;#])([^=&;#?/]{1,100})=([^&;#]*)")
# An address inside the path of another (a Wayback Machine copy: /web/2020/https://user:pass@host/): its userinfo.
_EMBEDDED_USERINFO_RE = lazy.regex(r"(?i)(\b[a-z][a-z0-9+.\-]{0,30}://)[^/?#@]*@")
# The same percent-encoded (?url=https%3A%2F%2Fuser%3Apass%40host): the userinfo, and token-like parameters.
_ENCODED_USERINFO_RE = lazy.regex(r"(?i)(%3a%2f%2f)(?:(?!%2f|%3f|%23)[^/?#&\s])*%40")
_ENCODED_PARAM_RE = lazy.regex(
    r"(?i)(%3f|%26|%23|%3b)((?:%(?!3d)[0-9a-f]{2}|[a-z0-9_.~+\-]){1,100})%3d((?:%(?!26|23|3b)[0-9a-f]{2}|[^&;#%\s])*)"
)
# Parameter names whose value is a credential; compared lower-cased without separators, or by last word.
_SECRET_NAMES = frozenset({
    "token", "accesstoken", "refreshtoken", "idtoken", "authtoken", "apikey", "apitoken", "key", "sig",
    "signature", "password", "passwd", "pwd", "pass", "secret", "clientsecret", "auth", "authorization",
    "credential", "credentials", "session", "sessionid", "jsessionid", "phpsessid", "sid", "jwt",
    "xamzsignature", "xamzcredential", "xamzsecuritytoken", "xgoogsignature", "xgoogcredential",
})
_SECRET_LAST_WORDS = frozenset({
    "token", "key", "sig", "signature", "secret", "password", "passwd", "auth", "credential", "sessionid",
})


def is_secret_name(name: str) -> bool:
    """Whether a query parameter called `name` carries a credential: `token`, `X-Amz-Signature`, `apiKey`."""
    lowered = urllib.parse.unquote(name).lower()
    words = [w for w in re.split(r"[^a-z0-9]+", lowered) if w]
    return "".join(words) in _SECRET_NAMES or (bool(words) and words[-1] in _SECRET_LAST_WORDS)


def _redact_url(match: re.Match[str]) -> str:
    url = match.group(0)
    scheme_end = url.index("://") + 3
    authority_end = next((i for i in range(scheme_end, len(url)) if url[i] in "/?#"), len(url))
    authority = url[scheme_end:authority_end]
    if "@" in authority:
        authority = REDACTED + authority[authority.rindex("@"):]
    rest = url[authority_end:]
    tail = min((i for i in (rest.find("?"), rest.find("#"), rest.find(";")) if i >= 0), default=len(rest))
    path = _EMBEDDED_USERINFO_RE.sub(rf"\1{REDACTED}@", rest[:tail])
    redacted = url[:scheme_end] + authority + path + _PARAM_RE.sub(_redact_param, rest[tail:])
    if "%" not in redacted:
        return redacted
    redacted = _ENCODED_USERINFO_RE.sub(rf"\1{REDACTED}%40", redacted)
    return _ENCODED_PARAM_RE.sub(
        lambda p: f"{p.group(1)}{p.group(2)}%3D{REDACTED}" if p.group(3) and is_secret_name(p.group(2)) else p.group(0),
        redacted,
    )


def _redact_param(match: re.Match[str]) -> str:
    name, value = match.group(1), match.group(2)
    if value and is_secret_name(name):
        return f"{name}={REDACTED}"
    if "://" in value:  # an address as a parameter's value (?url=https://host/?token=...)
        return f"{name}={redact(value)}"
    return match.group(0)


# Credentials by shape, wherever they stand (a URL's path, a note, a header someone pasted). Each alternative
# starts with a fixed literal (so that re skips quickly to the letters that can start one) and its repeats
# are bounded; a match must not continue a word on either side (before: checked in _redact_token).
_TOKEN_RE = lazy.regex(
    r"(?:"
    r"(?:gh[pousr]_[A-Za-z0-9]{30,255})"  # GitHub classic and app tokens
    r"|(?:github_pat_[A-Za-z0-9_]{40,255})"  # GitHub fine-grained
    r"|(?:glpat-[A-Za-z0-9_\-]{20,255})"  # GitLab personal access token
    r"|(?:xox[abposr]-[A-Za-z0-9\-]{10,255})"  # Slack tokens
    r"|(?:(?:AKIA|ASIA)[0-9A-Z]{16})"  # AWS access key id
    r"|(?:AIza[0-9A-Za-z_\-]{35})"  # Google API key
    r"|(?:[sr]k_live_[0-9A-Za-z]{16,255})"  # Stripe secret and restricted keys
    r"|(?:sk-(?:proj-|ant-)?[A-Za-z0-9_\-]{32,255})"  # OpenAI, Anthropic
    r"|(?:npm_[A-Za-z0-9]{36})"  # npm
    r"|(?:pypi-[A-Za-z0-9_\-]{50,255})"  # PyPI upload token
    r"|(?:eyJ[A-Za-z0-9_\-]{8,4096}\.eyJ[A-Za-z0-9_\-]{8,4096}\.[A-Za-z0-9_\-]{0,4096})"  # a JSON Web Token
    r")(?![A-Za-z0-9_])"
)
# Secrets that a URL's path carries by design: Slack and Discord webhooks, a Telegram bot's token.
_PATH_SECRET_RE = lazy.regex(
    r"(?i)(hooks\.slack\.com/(?:services|workflows|triggers)/)[A-Za-z0-9/_\-]{1,255}"
    r"|((?:discord(?:app)?\.com)/api/webhooks/[0-9]{1,30}/)[A-Za-z0-9_\-]{1,255}"
    r"|(api\.telegram\.org/(?:file/)?bot)[0-9]{1,20}:[A-Za-z0-9_\-]{1,255}"
)
# An HTTP authorisation header's value ("Authorization: Basic dXNlcjpw", "Authorization: token abc"), and a
# bearer token on its own ("Bearer eyJ..."; a word after "bearer" in prose has no digit, or is short).
_AUTH_RE = lazy.regex(
    r"(?i)\b(authorization[ \t]{0,10}:[ \t]{0,10}(?:(?:bearer|basic|token|digest)[ \t]{1,10})?|bearer[ \t]{1,10})"
    r"([A-Za-z0-9._~+/\-]{8,4096}={0,2})"
)
_WORD = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_AUTH_HINTS = ("earer", "EARER", "uthorization", "UTHORIZATION")


def _redact_token(match: re.Match[str]) -> str:
    start = match.start()
    if start and match.string[start - 1] in _WORD:  # inside a longer word ("Fish-sk-...")
        return match.group(0)
    return REDACTED


def _redact_path_secret(match: re.Match[str]) -> str:
    return next(group for group in match.groups() if group is not None) + REDACTED


def _redact_auth(match: re.Match[str]) -> str:
    prefix, value = match.group(1), match.group(2)
    bearer_alone = not prefix.lower().startswith("authorization")
    if bearer_alone and (len(value) < 16 or not any(c.isdigit() for c in value)):
        return match.group(0)  # "Bearer Token Authentication": prose
    return prefix + REDACTED


def _redact_tokens(text: str) -> str:
    # plain substring tests first, the cheapest: most report strings hold no credential. Every shape holds
    # "_" or "-" but these, and the shortest is 20 characters.
    if len(text) >= 16 and ("_" in text or "-" in text or "AKIA" in text or "ASIA" in text or "AIza" in text
                            or "eyJ" in text or "slack" in text or "discord" in text or "telegram" in text):
        text = _TOKEN_RE.sub(_redact_token, text)
        if "slack" in text or "discord" in text or "telegram" in text:
            text = _PATH_SECRET_RE.sub(_redact_path_secret, text)
    if "earer" in text or "uthorization" in text or "EARER" in text or "UTHORIZATION" in text:
        text = _AUTH_RE.sub(_redact_auth, text)
    return text


def redact(text: str) -> str:
    """The text with every URL's userinfo and token-like parameter values, and credentials of a known shape
    anywhere, replaced by REDACTED."""
    if "://" in text:
        text = _URL_RE.sub(_redact_url, text)
    return _redact_tokens(text)


_NAMED = {"\n": "\\n", "\r": "\\r"}


def _shown(match: re.Match[str]) -> str:
    char = match.group(0)
    code = ord(char)
    if code >= 0x10000:
        return f"\\U{code:08x}"
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def visible(text: str, *, multiline: bool = False) -> str:
    """Control and bidi characters shown as escapes (`\\x1b`, `\\u202e`); a tab is kept, and line breaks
    are kept when `multiline` (a CRLF or lone CR becomes a newline), else shown as `\\n`."""
    if multiline:
        return _UNSAFE_RE.sub(_shown, text.replace("\r\n", "\n").replace("\r", "\n"))
    return _UNSAFE_OR_NEWLINE_RE.sub(_shown, text)


def clean(text: str, *, multiline: bool = False) -> str:
    """A string from an input as every human-facing format shows it: redacted, then made visible."""
    return visible(redact(text), multiline=multiline)


def clean_all(value: Any, clean_text: Callable[[str], str]) -> Any:
    """`value` (dicts, lists and scalars, as for json.dumps) with `clean_text` applied to every string in it,
    keys included: one pass that no input-derived string escapes."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_all(k, clean_text): clean_all(v, clean_text) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_all(v, clean_text) for v in value]
    return value


# --- GitHub Actions workflow commands -----------------------------------------------------------------
# The runner reads every line a job prints: `::name ...::data` after leading spaces (TryParseV2), and, when
# that fails, the older `##[name ...]data` anywhere in the line (TryParse, actions/runner ActionCommand.cs).
# A report printed in a job must not contain either in text from an input.

# TryParseV2 trims the line with .NET's String.TrimStart(), which takes every Unicode white space (U+00A0,
# U+2003, U+3000, ...), not only spaces and tabs.
_LINE_COMMAND_RE = lazy.regex(r"(?m)^([^\S\n]*):(?=:)")
_LEGACY_COMMAND = "##["


def inert_commands(text: str) -> str:
    """Rendered plain text (the text report) in which no line starts a workflow command: a leading `::`
    becomes `\\x3a:`, and `##[` becomes `##\\[`."""
    return _LINE_COMMAND_RE.sub(r"\1\\x3a", text).replace(_LEGACY_COMMAND, "##\\[")


def _json_escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # JSON spells a character beyond the BMP as a surrogate pair
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


_JSON_RAW_RE = lazy.regex(f"[\x7f-\x9f{_BIDI}{_INVISIBLE}\u2028\u2029]")


def json_text(rendered: str) -> str:
    """A rendered JSON document with the characters JSON may leave raw escaped as \\uXXXX: C1 controls, bidi
    controls, invisible format characters, U+2028/U+2029 and the `[` of `##[`. The document still decodes to
    exactly the same data."""
    return _JSON_RAW_RE.sub(_json_escape, rendered).replace(_LEGACY_COMMAND, "##\\u005b")


def xml_text(rendered: str) -> str:
    """A rendered XML document in which no line starts or holds a workflow command (`::` at a line's start
    becomes `&#58;:`, `##[` becomes `##&#91;`): a character reference, so the XML's data is unchanged."""
    return _LINE_COMMAND_RE.sub(r"\1&#58;", rendered).replace(_LEGACY_COMMAND, "##&#91;")


# --- Markdown (pull-request comments and job summaries) -----------------------------------------------

# GitHub links "@name" and "@org/team" (and notifies them) and "#123" (and cross-references the issue)
# in rendered text, whatever Markdown escaping came before. A word joiner after the sign breaks the link and
# shows nothing.
# GitHub's word characters are ASCII ones (html-pipeline's MentionFilter: `(?:^|\W)@name`, Ruby's \W), so
# "é@name" and "中@name" mention too: the look-behind is ASCII, not Python's Unicode \w.
_MENTION_RE = lazy.regex(r"(?<![A-Za-z0-9_`])([@#]|GH-)(?=[A-Za-z0-9])")
WORD_JOINER = "\u2060"


def no_mentions(text: str) -> str:
    """`@name`, `#123` and `GH-123` that GitHub would turn into a mention or an issue reference, made plain
    text."""
    return _MENTION_RE.sub(lambda m: m.group(1) + WORD_JOINER, text)


def markdown(text: str) -> str:
    """Text from an input inside a GFM table cell or list item: cleaned, then with no HTML, no link or
    image (`[` and `]` escaped, so `![x](https://...)` shows as written), no pipe ending the cell, no line
    break ending the row, no code span, no math (GitHub renders `$\\color{red}{...}$` as coloured text that
    could pass for kratomref's own) and no mention."""
    text = clean(text, multiline=True)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`").replace("$", "\\$")
    text = text.replace("[", "\\[").replace("]", "\\]")
    text = no_mentions(text)
    return "<br>".join(line.strip() for line in text.split("\n"))
