"""`--format html`: one self-contained page an editor would rather look at, with every input string escaped;
and, in a real headless Chromium when the machine has one, filters that work and no script error."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from lxml import html as lxml_html

from kratomref.check import check
from kratomref.model import Report
from kratomref.options import Options
from kratomref.reports import html as report_html

PAGES = Path(__file__).parents[1] / "fixtures" / "web"

HOSTILE = """<!DOCTYPE html>
<html><head><title>t</title></head><body><article>
<h1>Hostile <script>alert('title')</script> page</h1>
<p>A claim [citation needed] with a <a href="https://www.example.com/x?token=abc123secretsecret">link</a>.\u202e</p>
<p>Another claim.<sup><a href="#fn1">1</a></sup> And one more.<sup><a href="#fn2">2</a></sup></p>
<h2>References</h2>
<ol>
<li id="fn1">Doe J. &lt;img src=x onerror=alert(1)&gt;
"A title &lt;/textarea&gt;&lt;script&gt;alert(2)&lt;/script&gt;". 2020.
javascript:alert(3) doi:10.1234/abc&quot;onmouseover=alert(4)</li>
<li id="fn2">Roe R. A second work. Journal of Examples. 2019;4(2):1-9. https://www.example.org/paper</li>
</ol>
</article></body></html>
"""


def report_for(*paths: Path) -> Report:
    return check(Options(paths=tuple(str(p) for p in paths), offline=True, use_cache=False))


@pytest.fixture
def hostile_report(tmp_path: Path) -> Report:
    page = tmp_path / "hostile.html"
    page.write_text(HOSTILE, encoding="utf-8")
    return report_for(page, PAGES / "wordpress-post.html")


def test_one_card_per_reference_with_its_verdict_and_the_text_findings(hostile_report: Report) -> None:
    tree = lxml_html.fromstring(report_html.render(hostile_report))
    cards = tree.xpath("//article[contains(@class, 'card')]")
    verdicts = [c.get("data-verdict") for c in cards if c.get("data-verdict") != "text"]
    assert sorted(verdicts) == sorted(r.verdict.value for r in hostile_report.results)
    text_cards = [c for c in cards if c.get("data-verdict") == "text"]
    loose = [f for f in hostile_report.findings if not f.location.key]
    assert len(text_cards) == len(loose) > 0
    # a placeholder is shown in its sentence, its place marked
    placeholder = next(c for c in text_cards  # the hostile page's (findings are ordered by path)
                       if "KR101" in c.get("data-rules") and "hostile.html" in c.text_content())
    assert placeholder.xpath(".//blockquote/mark")
    assert "claim" in placeholder.xpath("string(.//blockquote)")


def test_summary_counts_and_bar(hostile_report: Report) -> None:
    page = report_html.render(hostile_report)
    tree = lxml_html.fromstring(page)
    summary = tree.xpath("string(//section[@class='summary'])")
    assert f"{len(hostile_report.results)} references" in summary
    bar = tree.xpath("//div[@class='bar']/span")
    assert sum(int(span.text) for span in bar) == len(hostile_report.results)


def test_every_input_string_is_escaped_and_no_link_is_other_than_http(hostile_report: Report) -> None:
    page = report_html.render(hostile_report)
    tree = lxml_html.fromstring(page)
    assert len(tree.xpath("//script")) == 1  # the page's own
    assert not tree.xpath("//img") and not tree.xpath("//*[@onerror or @onmouseover]")
    assert "alert(" not in tree.xpath("string(//script)")
    hrefs = tree.xpath("//a/@href")
    assert hrefs and all(h.startswith(("https://", "http://")) for h in hrefs)
    assert "abc123secretsecret" not in page  # a token in a URL is redacted
    assert "\u202e" not in page  # a bidi override shown as an escape


def test_links_to_doi_org_crossref_and_the_wayback_machine(hostile_report: Report) -> None:
    tree = lxml_html.fromstring(report_html.render(hostile_report))
    hrefs = set(tree.xpath("//a/@href"))
    assert "https://doi.org/10.1016/j.neuropharm.2017.08.026" in hrefs
    assert "https://api.crossref.org/works/10.1016/j.neuropharm.2017.08.026" in hrefs
    assert "https://web.archive.org/web/*/https://www.fda.gov/news-events/public-health-focus/fda-and-kratom" in hrefs


def test_self_contained_nothing_is_fetched_and_only_the_page_own_script_and_style_run(hostile_report: Report) -> None:
    page = report_html.render(hostile_report)
    tree = lxml_html.fromstring(page)
    assert not tree.xpath("//*[@src]") and not tree.xpath("//link") and not tree.xpath("//*[@style]")
    csp = tree.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")[0]
    assert "default-src 'none'" in csp
    for tag in ("script", "style"):
        source = tree.xpath(f"//{tag}")[0].text
        digest = base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode("ascii")
        assert f"'sha256-{digest}'" in csp


def test_write_streams_the_same_page_as_render(hostile_report: Report) -> None:
    import io

    out = io.StringIO()
    report_html.write(hostile_report, out)
    assert out.getvalue() == report_html.render(hostile_report)


# --- In a real browser ------------------------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="no headless Chromium on this machine (Debian: "
                                    "apt-get install chromium); the report's filters are tested in a browser only")

_WATCH = "window.__errors=[];window.addEventListener('error',function(e){window.__errors.push(String(e.message));});"
_PROBE = """
(function(){
  function shown(){return Array.prototype.filter.call(document.querySelectorAll('.card'),
    function(c){return !c.hidden;}).map(function(c){return c.getAttribute('data-verdict');});}
  function set(el, prop, value, event){el[prop]=value; el.dispatchEvent(new Event(event));}
  var out = {all: shown()};
  var unverified = document.querySelector('input[name=verdict][value=unverified]');
  set(unverified, 'checked', false, 'change'); out.withoutUnverified = shown();
  set(unverified, 'checked', true, 'change');
  var errors = document.querySelector('input[name=severity][value=error]');
  set(errors, 'checked', false, 'change'); out.withoutErrors = shown();
  set(errors, 'checked', true, 'change');
  var rule = document.getElementById('f-rule');
  set(rule, 'value', 'KR101', 'change'); out.kr101 = shown(); set(rule, 'value', '', 'change');
  var search = document.getElementById('f-search');
  set(search, 'value', 'Second work', 'input'); out.search = shown(); set(search, 'value', '', 'input');
  out.count = document.getElementById('shown').textContent;
  out.errors = window.__errors;
  var pre = document.createElement('pre'); pre.id = 'probe'; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
"""


def _sha(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode("ascii") + "'"


def _probed(page: str) -> str:
    """The page with an error listener before its script and a probe after it, both allowed by the CSP."""
    page = page.replace("script-src ", f"script-src {_sha(_WATCH)} {_sha(_PROBE)} ", 1)
    page = page.replace("<style>", f"<script>{_WATCH}</script><style>", 1)
    return page.replace("</body>", f"<script>{_PROBE}</script></body>", 1)


def _chromium(*args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                           "--disable-extensions", "--user-data-dir=" + args[0], *args[1:]],
                          capture_output=True, text=True, timeout=120, check=False)


@needs_chromium
def test_in_chromium_the_filters_work_and_no_script_error_occurs(hostile_report: Report, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(_probed(report_html.render(hostile_report)), encoding="utf-8")
    done = _chromium(str(tmp_path / "profile"), "--dump-dom", page.as_uri())
    match = re.search(r'<pre id="probe">(.*?)</pre>', done.stdout, re.DOTALL)
    assert match, done.stderr[-2000:]
    probe = json.loads(lxml_html.fromstring(match.group(0)).text_content())
    assert probe["errors"] == []
    verdicts = [r.verdict.value for r in hostile_report.results]
    assert sorted(v for v in probe["all"] if v != "text") == sorted(verdicts)
    assert "unverified" not in probe["withoutUnverified"] and len(probe["withoutUnverified"]) < len(probe["all"])
    # a card whose only findings are errors disappears with errors unticked; a verified one without findings stays
    assert len(probe["withoutErrors"]) < len(probe["all"])
    assert probe["kr101"] and set(probe["kr101"]) == {"text"}
    second = next(r for r in hostile_report.results if "second work" in r.reference.raw)
    assert probe["search"] == [second.verdict.value]  # the one card that names the work
    assert probe["count"] == f"{len(probe['all'])} of {len(probe['all'])} shown"


@needs_chromium
@pytest.mark.parametrize(("name", "size"), [("desktop", "1200,1600"), ("phone", "412,915")])
def test_in_chromium_a_screenshot_is_kept(hostile_report: Report, tmp_path: Path, name: str, size: str) -> None:
    page = tmp_path / "report.html"
    page.write_text(report_html.render(hostile_report), encoding="utf-8")
    shot = tmp_path / f"report-{name}.png"
    done = _chromium(str(tmp_path / "profile"), f"--screenshot={shot}", f"--window-size={size}", page.as_uri())
    assert shot.is_file() and shot.stat().st_size > 10_000, done.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
