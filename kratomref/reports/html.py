"""The HTML report: one self-contained page (no network needed) with the summary, a card per reference, filters.

Every string that comes from an input (titles, messages, URLs, the text of the draft) is passed through
sanitize.clean (secrets in URLs redacted, control and bidi characters shown as escapes) and html.escape, in text
and in attributes alike; a link's address must be http(s) to become a link at all. The page's script and style
are inline and allowed by their hashes in a Content-Security-Policy that allows nothing else: no request leaves
the page, and no script an input could smuggle in would run.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import urllib.parse
from collections import Counter, defaultdict
from collections.abc import Iterator

from kratomref.doi import normalise_doi
from kratomref.model import Document, Finding, Reference, ReferenceResult, Report, Severity, Verdict
from kratomref.reports import confirmed_by, plural
from kratomref.reports.sanitize import clean
from kratomref.reports.stream import Out, write_lines

_VERDICTS = (Verdict.PROBLEM, Verdict.UNVERIFIED, Verdict.VERIFIED)
_SEVERITIES = (Severity.ERROR, Severity.WARNING, Severity.INFO)

_STYLE = """
:root{--fg:#1b1f24;--muted:#4b5563;--bg:#fff;--card:#f8fafc;--line:#cbd5e1;--ok:#0f6b2f;--warn:#8a4b00;
--bad:#b00020;--info:#1d4ed8;--unv:#5b21b6;--focus:#0b57d0}
*{box-sizing:border-box}
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);
overflow-wrap:anywhere;margin:0 auto;max-width:60rem;padding:1rem}
h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.25rem;margin:1.5rem 0 .5rem}h3{font-size:1.05rem;margin:0}
a{color:var(--info)}a:focus,button:focus,input:focus,select:focus{outline:3px solid var(--focus);outline-offset:2px}
.summary p{margin:.25rem 0}
.bar{display:flex;height:1.6rem;border:1px solid var(--line);border-radius:.3rem;overflow:hidden;margin:.5rem 0}
.bar span{display:block;height:100%;color:#fff;font-size:.8rem;line-height:1.6rem;text-align:center;overflow:hidden;
white-space:nowrap}
.bar .verified{background:var(--ok)}.bar .unverified{background:var(--unv)}.bar .problem{background:var(--bad)}
.filters{display:flex;flex-wrap:wrap;gap:.5rem 1.25rem;align-items:flex-end;padding:.75rem;border:1px solid var(--line);
border-radius:.4rem;background:var(--card)}
.filters fieldset{border:0;margin:0;padding:0}.filters legend{font-weight:600;font-size:.9rem;padding:0}
.filters label{margin-right:.6rem;white-space:nowrap}
.filters input[type=search],.filters select{font:inherit;padding:.3rem;border:1px solid var(--muted);
border-radius:.3rem}
.card{border:1px solid var(--line);border-left:6px solid var(--line);border-radius:.4rem;padding:.75rem 1rem;
margin:.75rem 0;background:var(--bg)}
.card.verified{border-left-color:var(--ok)}.card.unverified{border-left-color:var(--unv)}
.card.problem{border-left-color:var(--bad)}.card.text{border-left-color:var(--warn)}
.card[hidden]{display:none}
.where{color:var(--muted);font-size:.9rem;margin:.1rem 0 .4rem}
.badge{display:inline-block;font-size:.8rem;font-weight:600;padding:0 .45rem;border-radius:.8rem;color:#fff;
vertical-align:middle}
.badge.verified{background:var(--ok)}.badge.unverified{background:var(--unv)}.badge.problem{background:var(--bad)}
.badge.error{background:var(--bad)}.badge.warning{background:var(--warn)}.badge.info{background:var(--info)}
.badge.text{background:var(--warn)}
ul.findings{padding-left:1.2rem;margin:.4rem 0}ul.findings li{margin:.3rem 0}
.rule{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.9rem}
.suggestion{color:var(--muted)}.suggestion::before{content:"Suggestion: ";font-weight:600}
blockquote{margin:.4rem 0;padding:.3rem .75rem;border-left:3px solid var(--line);background:var(--card);
overflow-wrap:anywhere}
mark{background:#ffe08a;color:inherit}
.links a{margin-right:.9rem}.raw{overflow-wrap:anywhere;color:var(--muted);font-size:.9rem}
.count{font-weight:600}
@media (max-width:40rem){body{padding:.5rem}.filters{flex-direction:column;align-items:stretch}}
@media print{.filters,.count{display:none}.card{break-inside:avoid;border-left-width:3px}.card[hidden]{display:block}
a{color:inherit;text-decoration:none}body{max-width:none}}
"""

_SCRIPT = """
(function(){
  var cards = Array.prototype.slice.call(document.querySelectorAll('.card'));
  var boxes = Array.prototype.slice.call(document.querySelectorAll('.filters input[type=checkbox]'));
  var rule = document.getElementById('f-rule');
  var search = document.getElementById('f-search');
  var count = document.getElementById('shown');
  function checked(name){
    return boxes.filter(function(b){return b.name === name && b.checked;}).map(function(b){return b.value;});
  }
  function apply(){
    var verdicts = checked('verdict'), severities = checked('severity');
    var wanted = rule.value, words = search.value.trim().toLowerCase();
    var shown = 0;
    cards.forEach(function(card){
      var sev = card.getAttribute('data-severities').split(' ').filter(Boolean);
      var rules = card.getAttribute('data-rules').split(' ').filter(Boolean);
      var ok = verdicts.indexOf(card.getAttribute('data-verdict')) >= 0;
      if (ok && sev.length) { ok = sev.some(function(s){return severities.indexOf(s) >= 0;}); }
      if (ok && wanted) { ok = rules.indexOf(wanted) >= 0; }
      if (ok && words) { ok = card.textContent.toLowerCase().indexOf(words) >= 0; }
      card.hidden = !ok;
      if (ok) { shown += 1; }
    });
    count.textContent = shown + ' of ' + cards.length + ' shown';
  }
  boxes.forEach(function(b){ b.addEventListener('change', apply); });
  rule.addEventListener('change', apply);
  search.addEventListener('input', apply);
  apply();
})();
"""


_MARKDOWN_LINK_RE = re.compile(r"\[([^\]]*)\]\((?:https?://[^)\s]*)\)")


def _hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode("ascii") + "'"


def _csp(style: str) -> str:
    """Nothing may be fetched; only the page's own style and script apply (no style attribute either)."""
    return (f"default-src 'none'; style-src {_hash(style)}; script-src {_hash(_SCRIPT)}; img-src 'none'; "
            "base-uri 'none'; form-action 'none'")


def _style(report: Report) -> str:
    """The page's style, with the bar's shares of each verdict (a style attribute would need 'unsafe-inline')."""
    verdicts = Counter(r.verdict for r in report.results)
    shares = "".join(f".bar .{v.value}{{flex:{verdicts[v]} 1 0}}" for v in _VERDICTS)
    return _STYLE + shares + "\n"


def esc(text: object) -> str:
    """Text from an input, safe as HTML text and as a quoted attribute value."""
    return html.escape(clean(str(text)), quote=True)


def _href(url: str) -> str | None:
    """A cleaned, escaped http(s) address for an href, or None for anything else (javascript:, data:...)."""
    cleaned = clean(url.strip())
    scheme = urllib.parse.urlsplit(cleaned).scheme.lower() if cleaned else ""
    if scheme not in ("http", "https"):
        return None
    return html.escape(cleaned, quote=True)


def _link(url: str, label: str) -> str:
    href = _href(url)
    if href is None:
        return esc(label)
    return f'<a href="{href}" rel="noopener noreferrer nofollow">{esc(label)}</a>'


def _finding_item(f: Finding) -> str:
    level = f.level.label
    parts = [f'<li><span class="badge {level}">{level}</span> <span class="rule">{esc(f.rule.code)} '
             f"{esc(f.rule.name)}</span> {esc(f.message)}"]
    if f.suggestion:
        parts.append(f'<br><span class="suggestion">{esc(f.suggestion)}</span>')
    parts.append("</li>")
    return "".join(parts)


def _where(document: Document | None, file: str, line: int | None) -> str:
    where = f"{file}:{line}" if line is not None else file
    if document is not None and document.meta.get("where"):
        from kratomref.readers.html import where as section

        place = section(document, line)
        if place:
            where = f"{file} {place}"
    return esc(where)


def _reference_links(ref: Reference, result: ReferenceResult) -> str:
    links: list[str] = []
    doi = normalise_doi(ref.doi)
    if doi:
        quoted = urllib.parse.quote(doi, safe="/:;()._-<>[]")
        links.append(_link(f"https://doi.org/{quoted}", "DOI at doi.org"))
        links.append(_link(f"https://api.crossref.org/works/{quoted}", "Crossref record"))
    elif result.matched and isinstance(result.matched.get("DOI"), str):
        links.append(_link(f"https://doi.org/{result.matched['DOI']}", "matched DOI at doi.org"))
    for url in ref.urls[:5]:
        if _href(url) is None:
            continue
        links.append(_link(url, f"link ({urllib.parse.urlsplit(clean(url)).hostname or 'page'})"))
        links.append(_link(f"https://web.archive.org/web/*/{url}", "Wayback copies"))
    return f'<p class="links">{" ".join(links)}</p>' if links else ""


def _card(result: ReferenceResult, findings: list[Finding], document: Document | None) -> str:
    ref = result.reference
    verdict = result.verdict.value
    severities = " ".join(sorted({f.level.label for f in findings}))
    rules = " ".join(sorted({f.rule.code for f in findings}))
    title = ref.title or ref.raw[:120] or ref.key
    lines = [
        f'<article class="card {verdict}" data-verdict="{verdict}" data-severities="{esc(severities)}" '
        f'data-rules="{esc(rules)}">',
        f'<h3>{esc(ref.key)}: {esc(title)} <span class="badge {verdict}">{verdict}</span></h3>',
        f'<p class="where">{_where(document, ref.location.file, ref.location.line)}'
        + (f" · confirmed by {esc(result.confirmed_by)}" if result.confirmed_by and verdict == "verified" else "")
        + "</p>",
    ]
    raw = ref.raw
    if document is not None and document.format == "html":  # the Markdown the page was read as, as the page shows it
        raw = _MARKDOWN_LINK_RE.sub(r"\1", raw).replace("**", "")
    if raw and raw != title:
        lines.append(f'<p class="raw">{esc(raw[:600])}</p>')
    if findings:
        lines.append('<ul class="findings">' + "".join(_finding_item(f) for f in findings) + "</ul>")
    if result.verdict is Verdict.UNVERIFIED and result.reasons:
        lines.append('<ul class="findings">' + "".join(
            f'<li><span class="badge unverified">not checked</span> {esc(reason)}</li>' for reason in result.reasons)
            + "</ul>")
    lines.append(_reference_links(ref, result))
    lines.append("</article>")
    return "\n".join(line for line in lines if line)


def _sentence(document: Document | None, line: int | None, column: int | None) -> str:
    """The text of the draft around a finding in the body, the finding's place marked when its column is known."""
    if document is None or line is None:
        return ""
    text = next((t.text for t in document.body if t.line == line), None)
    if text is None:
        return ""
    text = " ".join(text.split()) if column is None else text
    if column is not None and 1 <= column <= len(text):
        start = max(text.rfind(". ", 0, column - 1) + 2, 0) if text.rfind(". ", 0, column - 1) >= 0 else 0
        end = text.find(". ", column - 1)
        end = len(text) if end < 0 else end + 1
        before, at, after = text[start:column - 1], text[column - 1:end], ""
        word_end = at.find(" ", 1)
        if word_end > 0:
            at, after = at[:word_end], at[word_end:]
        return f"<blockquote>{esc(before)}<mark>{esc(at)}</mark>{esc(after)}</blockquote>"
    return f"<blockquote>{esc(text[:600])}</blockquote>"


def _text_card(f: Finding, document: Document | None) -> str:
    level = f.level.label
    return "\n".join(line for line in (
        f'<article class="card text" data-verdict="text" data-severities="{level}" data-rules="{esc(f.rule.code)}">',
        f'<h3><span class="rule">{esc(f.rule.code)} {esc(f.rule.name)}</span> '
        f'<span class="badge {level}">{level}</span></h3>',
        f'<p class="where">{_where(document, f.location.file, f.location.line)}</p>',
        _sentence(document, f.location.line, f.location.column),
        f"<p>{esc(f.message)}</p>",
        f'<p class="suggestion">{esc(f.suggestion)}</p>' if f.suggestion else "",
        "</article>",
    ) if line)


def _summary(report: Report) -> Iterator[str]:
    verdicts = Counter(r.verdict for r in report.results)
    total = len(report.results)
    errors, warnings, infos = (report.count(s) for s in _SEVERITIES)
    yield '<section class="summary" aria-labelledby="summary">'
    yield '<h2 id="summary">Summary</h2>'
    yield (f"<p>{plural(total, 'reference')} in {plural(len(report.documents), 'file')}: "
           f"<strong>{verdicts[Verdict.VERIFIED]} verified</strong>, <strong>{verdicts[Verdict.UNVERIFIED]} "
           f"unverified</strong>, <strong>{verdicts[Verdict.PROBLEM]} with problems</strong>.</p>")
    yield f"<p>{plural(errors, 'error')}, {plural(warnings, 'warning')}, {infos} info.</p>"
    if who := confirmed_by(report):
        yield f"<p>Verified by {esc(who)}.</p>"
    if total:
        yield '<div class="bar" role="img" aria-label="' + esc(
            ", ".join(f"{verdicts[v]} {v.value}" for v in reversed(_VERDICTS))) + '">'
        for verdict in reversed(_VERDICTS):
            if verdicts[verdict]:
                yield (f'<span class="{verdict.value}" title="{verdicts[verdict]} '
                       f'{verdict.value}">{verdicts[verdict]}</span>')
        yield "</div>"
    yield "<p>Files: " + ", ".join(esc(d.path) for d in report.documents) + "</p>"
    yield "</section>"


def _filters(report: Report) -> Iterator[str]:
    rules = sorted({(f.rule.code, f.rule.name) for f in report.findings})
    yield '<section class="filters" aria-label="Filters">'
    yield "<fieldset><legend>Verdict</legend>"
    for value, label in (("problem", "with problems"), ("unverified", "unverified"), ("verified", "verified"),
                         ("text", "in the text")):
        yield (f'<label><input type="checkbox" name="verdict" value="{value}" checked> {label}</label>')
    yield "</fieldset><fieldset><legend>Severity</legend>"
    for severity in _SEVERITIES:
        yield (f'<label><input type="checkbox" name="severity" value="{severity.label}" checked> '
               f"{severity.label}</label>")
    yield "</fieldset>"
    yield ('<div><label for="f-rule"><strong>Rule</strong></label><br><select id="f-rule">'
           '<option value="">any rule</option>')
    for code, name in rules:
        yield f'<option value="{esc(code)}">{esc(code)} {esc(name)}</option>'
    yield "</select></div>"
    yield ('<div><label for="f-search"><strong>Search</strong></label><br>'
           '<input type="search" id="f-search" placeholder="title, author, message…"></div>')
    yield '<p class="count" id="shown" aria-live="polite"></p>'
    yield "</section>"


def _lines(report: Report) -> Iterator[str]:
    documents = {d.path: d for d in report.documents}
    by_reference: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    keys = {(r.reference.location.file, r.reference.key) for r in report.results}
    loose: list[Finding] = []
    for f in report.findings:
        key = (f.location.file, f.location.key or "")
        if key in keys:
            by_reference[key].append(f)
        else:
            loose.append(f)
    yield "<!DOCTYPE html>"
    yield '<html lang="en">'
    yield "<head>"
    yield '<meta charset="utf-8">'
    style = _style(report)
    yield f'<meta http-equiv="Content-Security-Policy" content="{_csp(style)}">'
    yield '<meta name="viewport" content="width=device-width, initial-scale=1">'
    yield '<meta name="referrer" content="no-referrer">'
    yield f"<title>kratomref report: {esc(', '.join(d.path for d in report.documents)[:120])}</title>"
    yield f"<style>{style}</style>"
    yield "</head>"
    yield "<body>"
    yield "<header>"
    yield "<h1>Reference check</h1>"
    yield f'<p class="where">kratomref {esc(report.tool_version)}</p>'
    yield "</header>"
    yield "<main>"
    yield from _summary(report)
    yield from _filters(report)
    if loose:
        yield '<section aria-labelledby="in-text">'
        yield f'<h2 id="in-text">In the text ({len(loose)})</h2>'
        for f in loose:
            yield _text_card(f, documents.get(f.location.file))
        yield "</section>"
    yield '<section aria-labelledby="references">'
    yield f'<h2 id="references">References ({len(report.results)})</h2>'
    order = {v: i for i, v in enumerate(_VERDICTS)}
    for result in sorted(report.results, key=lambda r: order[r.verdict]):
        ref = result.reference
        findings = by_reference.get((ref.location.file, ref.key), [])
        yield _card(result, findings, documents.get(ref.location.file))
    if not report.results:
        yield "<p>No references were found.</p>"
    yield "</section>"
    yield "</main>"
    yield f"<script>{_SCRIPT}</script>"
    yield "</body>"
    yield "</html>"


def write(report: Report, out: Out) -> None:
    """Write the page to out in chunks of lines: the bytes `render` returns."""
    write_lines((line + "\n" for line in _lines(report)), out)


def render(report: Report) -> str:
    return "".join(line + "\n" for line in _lines(report))
