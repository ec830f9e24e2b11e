"""Editor rules for claims and quotations: uncited reports of evidence (KR504) and quotations of a named source (KR505).

Also the prose helpers other editor rules share: the body split into paragraphs and sentences, and what
counts as a citation mark.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kratomref import lazy
from kratomref.model import Document, DocumentEvidence, Finding, Location, Rule, Severity, TextLine
from kratomref.readers.intext import code_lines, prose
from kratomref.readers.latex import CITE_COMMAND
from kratomref.rules import has_text

if TYPE_CHECKING:
    from kratomref.rules import Context

UNSUPPORTED_CLAIM = Rule(
    "KR504", "unsupported-claim", Severity.WARNING,
    "A sentence reports evidence or an authority's position without a citation.",
    """What it does
  Flags a sentence with one of these cues and no citation in it or later in its paragraph:
  - studies/research/evidence/data/trials/surveys/literature/guidelines/experts/scientists/officials (and
    professions and groups: veterinarians, plumbers, recruiters, tenant advocates, courts...) + show,
    suggest, found, warn, agree, recommend, have held, have raised concerns... ("studies show", "evidence
    from Denmark suggests", "courts have generally held that", "health authorities have raised concerns");
  - an organisation's estimate, finding or position: "the Federal Reserve estimates", "the WHO recommends",
    "the American Heart Association advises", "the FDA has issued warnings";
  - "has been shown to/that", "has been demonstrated to", "has been reported in/linked to", "is known to
    cause", "it is widely reported that", "there is strong evidence that", "is associated with a higher
    risk of", "large tech companies have reported that";
  - hearsay that carries a fact: "is said to have a lower risk of", "are believed to", "is thought to",
    "is reported to", "is widely considered the best" ("is said to be positive if ..." defines a term);
  - "according to" + a name, an organisation or a kind of source ("according to the FDA", "according to
    a national survey"), not a figure, equation or technical term ("according to Fig. 1", "according to
    the chain rule", "according to Q values");
  - a statistic about a population ("40% of patients", "one in five adults", "an estimated 20 to 40 percent
    of dogs") or stated as fact ("31% less likely", "accounts for 40% of", "a 40% rise in");
  - "a study/survey/trial/meta-analysis/report published in / by / from / of ... found/showed/reported".
  Not flagged: the author's own work ("our data show", "this study found", a sentence pointing at its own
  "(Figure 3)"); a sentence that refers back to a work cited in its paragraph, the one before or its
  section ("Their experiments showed", "the paper found", "DPR found" after DPR's citation), and a passive
  "has been shown to" there; acknowledgements, funding and data or code availability statements (and
  their sections); headings (Markdown, setext, a bold line, a short title-case line); tables, block
  quotes, stories, code, LaTeX comments, questions, text inside quotation marks (titles); and sentences
  with a citation ([1], ¹, (Smith, 2019), Smith (2019), \\cite{...}, [@key], a footnote, a link).

Why it matters
  "Studies show" with no study is the commonest sign of an unsupported or invented claim.

Example
  Studies show that kratom reduces opioid withdrawal symptoms.
  Green tea is said to lower the risk of heart disease.

How to fix
  Cite the study or authority, or soften the sentence into your own hedged view.""",
)
UNSOURCED_QUOTE = Rule(
    "KR505", "unsourced-quote", Severity.WARNING,
    "A direct quotation attributed to a named person or organisation has no citation.",
    """What it does
  Flags a quotation of at least 4 words in straight or curly quotation marks (one that runs on to the end
  of its paragraph too) that is attributed to a named source, with no citation, link or stated source:
  - a name followed by a colon: Dr. Emily Chen, Clinical Pharmacist: “...”; **Dr. Jane Roe, cardiologist:**
    “...”; a name, a verb and a colon: Local guide Ana Moura puts it simply: “...”;
  - "as NAME put it / wrote / said", "according to NAME, “...”", "in the words of NAME";
  - a name of two words or more, or an acronym, with a sourcing verb (told, explained, noted, stated,
    wrote, warned, argued, added, advised, declared...), or "the minister/agency/trust" + such a verb;
  - "said"/"says" when the name carries a title or role (Dr., Professor, "says historian X", "a
    spokesperson for the Trust", "of/at" an organisation, "says Priya, a mother of two"), or is an
    organisation's ("the British Dietetic Association said");
  - a dash after the quotation: > “...” — Dr. Miriam Hale, child psychologist.
  A stated source quiets it: "told Reuters", "told the author", "told this newspaper", "in an interview
  with the author on 3 May 2024", "in a 2021 interview with Men's Health", a link, a citation.
  Not flagged: short quoted phrases (scare quotes, titles), quotations with no named source, dialogue
  with a bare first name and "said" or a manner phrase ("stated flatly", "added with a smile"), every
  quotation of a story (three or more narrator's tags such as "she whispered", or turns of dialogue), the
  speaker labels of a transcript, an interview or a play (HOST: ..., **Dr. Okonkwo:** ...), and quotes
  cited in their sentence or paragraph.

Why it matters
  Invented experts with invented quotes are a hallmark of machine-written drafts; an editor must be able
  to trace every quotation.

Example
  Dr. Emily Chen, Clinical Pharmacist: “Kratom is safer than most people think.”

How to fix
  Cite where the quotation was published (interview, article, report), or remove it.""",
)

RULES = (UNSUPPORTED_CLAIM, UNSOURCED_QUOTE)

# --- KR504 cues: each is a phrase an editor would ask "which study?" about ---------------------------
_SOURCE_NOUNS = (r"(?:studies|research|researches|evidence|data|trials|surveys|experiments|reports|analyses"
                 r"|findings|investigations|(?:meta-)?analyses|reviews|scientists|researchers|experts|doctors|neuroscientists"
                 r"|physicians|clinicians|scholars|economists|historians|psychologists|scientific\s+literature"
                 r"|observations|measurements|polls|statistics|figures|estimates|records|astronomers|analysts"
                 r"|officials|authorities|forecasters|pollsters|nutritionists|dietitians|epidemiologists"
                 r"|literature|body\s+of\s+(?:literature|research|work)"
                 # professions that report evidence: "biologists", "paediatricians", "veterinarians", but not
                 # every -ist ("tourists say", "artists believe" are not claims an editor sources)
                 r"|[a-z]+(?:ologists|icians|arians)|(?:physic|chem|pharmac|psychiatr|therap|special|dent"
                 r"|statistic|scient|econom|agronom|ecolog)ists|advisers|advisors|agronomists"
                 r"|(?:recent|previous|earlier|prior|empirical|archival|experimental|clinical)\s+work"
                 # groups whose position is a claim: "tenant advocates warn", "courts have held", "plumbers
                 # recommend", "real estate agents say" ("agents" alone are as often software agents)
                 r"|advocates|campaigners|regulators|courts|educators|teachers|plumbers|engineers|lawyers|attorneys"
                 r"|accountants|architects|nurses|midwives|vets|coaches|trainers|planners|recruiters|brokers"
                 r"|realtors|(?:estate|travel|insurance|letting)\s+agents|guidelines|guidance"
                 r"|(?:[a-z]+\s+)?professionals|installers|specialists|practitioners|manufacturers|insiders)")
_EVIDENCE_VERBS = (r"(?:show|shows|showed|suggest|suggests|suggested|find|finds|found|indicate|indicates"
                   r"|indicated|demonstrate|demonstrates|demonstrated|confirm|confirms|confirmed|prove|proves"
                   r"|proved|reveal|reveals|revealed|report|reports|reported|link|links|linked|agree|agrees"
                   r"|warn|warns|warned|believe|believes|estimate|estimates|estimated|point\s+to|points\s+to"
                   r"|say|says|recommend|recommends|consistently\s+show|also\s+[a-z]+(?:s|ed)\b"
                   r"|claim|claims|claimed"
                   # "have found", "has long been linked", "have consistently failed to show", "have examined"
                   r"|(?:have|has)\s+(?:\w+ly\s+|long\s+|also\s+|now\s+|repeatedly\s+)?(?:been\s+)?(?:shown|found"
                   r"|demonstrated|suggested|indicated|confirmed|proven|proved|revealed|reported|linked|established"
                   r"|documented|observed|concluded|warned|argued|estimated|identified|noted|highlighted|questioned"
                   r"|failed\s+to\s+\w+|examined|investigated|explored|tied|associated|connected|discovered"
                   r"|recommended|agreed|accepted|cautioned|predicted|outperformed|held|ruled|said|stated|claimed"
                   r"|raised\s+concerns?|issued\s+(?:warnings?|guidance|advice|alerts?))"
                   r"|discover|discovers|discovered|accept|accepts|rank|ranks|ranked|advise|advises|advised"
                   r"|caution|cautions|cautioned|conclude|concludes|concluded|maintain|maintains|contend|contends"
                   r"|underscore|underscores|highlight|highlights|predict|predicts|project|projects)")
# What may stand between a source and its verb: "studies of open-source projects have found",
# "evidence from Denmark suggests", "research published in Nature found", "experts in the field agree".
_SOURCE_QUALIFIER = (r"(?:\s+(?:of|from|at|in|on|by|with|among|published\s+in|conducted\s+(?:in|at|by))"
                     r"(?:\s+[\w'’.&-]+){1,6}?)?")
# An organisation as a source: an acronym, or a name with an institution word ("the Federal Reserve").
_ORGANISATION = (r"(?:the\s+)?(?:[A-Z][A-Z][\w&-]*|(?:[A-Z][\w&.-]*\s+){0,4}(?:Reserve|Bureau|Department|Ministry"
                 r"|Agency"
                 r"|Institute|Institutes|Organization|Organisation|Office|Bank|Commission|Council|University|Association"
                 r"|Society|Foundation|Centers|Centre|Center|Service|Administration|Fund|Academy|Agency|Authority"
                 r"|Clinic|Board|Council|Federation|College|Protection|Trust|Alliance|Coalition|Institution|League"
                 r"|Soccer|Football|Rugby|Athletics|Service|Services|Registry|Network)"
                 r"(?:\s+(?:of|for|on)\s+(?:the\s+)?[A-Z][\w&.-]*(?:\s+(?:and\s+)?[A-Z][\w&.-]*){0,3})?"
                 r"(?:\s*\([A-Z][A-Z&]+\))?)")
# Who a statistic is about: "40% of patients", "one in five adults" ("50% of the text" is not a claim).
POPULATIONS = (r"(?:patients|people|adults|children|kids|teens|teenagers|adolescents|users|americans|britons"
               r"|respondents|women|men|students|workers|employees|consumers|participants|cases|deaths"
               r"|households|voters|smokers|drivers|doctors|nurses|parents|infants|population|residents"
               r"|citizens|companies|businesses|firms|species|infections|survivors|veterans|seniors"
               r"|individuals|customers|internet\s+users|the\s+population|teachers|pupils|inmates|prisoners"
               r"|offenders|graduates|mothers|girls|boys|europeans|americans|canadians|australians|youth"
               r"|young\s+people|older\s+adults|farmers|athletes|readers|viewers|renters|homeowners|runners"
               r"|shoppers|travellers|travelers|owners|drinkers|gamers|visitors|buyers|borrowers|investors"
               r"|retirees|pensioners|immigrants|refugees|victims|applicants|toddlers|babies|newborns|preschoolers"
               r"|dogs|cats|pets|animals|tenants|landlords|employers|clinicians|physicians|men\s+and\s+women)")
# Words after "shown to" that make it a showing, not a finding: "shown to friends", "shown to the board".
# (A plural noun is told apart from a verb by its final s: "to friends", but "to reduce", "to process".)
_NOT_A_VERB = (r"(?:the|a|an|me|him|her|us|them|you|his|their|my|our|your|its|this|these|those|each|every|all"
               r"|many|some|any|no|visitors|family|everyone|everybody|people)")
HEARSAY = "hearsay stated as fact"
CLAIM_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    # "studies show", "recent research suggests", "a growing body of evidence indicates"
    ("evidence reported without its source",
     lazy.regex(r"\b" + _SOURCE_NOUNS + _SOURCE_QUALIFIER + r"\s+(?:(?:have|has|now|also|consistently|repeatedly"
                r"|clearly|increasingly|\w+ly)\s+)*" + _EVIDENCE_VERBS + r"\b", re.IGNORECASE)),
    # "The Federal Reserve estimates", "the IMF projects", "NASA reported"
    ("an organisation's estimate or finding",
     lazy.regex(r"(?<![\w&.-])" + _ORGANISATION + r"\s+(?:\w+ly\s+)?(?:estimates|estimated|projects|projected|predicts"
                r"|predicted|forecasts|reports|reported|found|finds|warns|warned|recommends|recommended|says"
                # a position: "the WHO recommends", "the American Heart Association advises", "the FDA has warned"
                r"|advises|advised|urges|urged|cautions|cautioned|states|stated|said|claims|claimed|maintains"
                r"|bans|banned|prohibits|prohibited"
                r"|(?:has|have)\s+(?:\w+ly\s+|also\s+|long\s+)?(?:warned|issued|raised|recommended|advised|classified"
                r"|stated|said|found|reported|estimated|concluded|approved|declared|urged|cautioned|banned))\b")),
    # how an authority classes a thing: "the IRS treats crypto as property", "The WHO classifies burnout as" (with
    # "the": "MDL considers the model as part of the code" is a method, not an authority)
    ("an organisation's estimate or finding",
     lazy.regex(r"(?<![\w&.-])[Tt]he\s+" + _ORGANISATION + r"\s+(?:treats|treated|classifies|classified|considers"
                r"|regards|defines|recognises|recognizes)(?=\s+(?:[\w'’-]+\s+){1,6}?as\b)")),
    # "it is widely reported that", "it is estimated that"
    ("an impersonal report of findings",
     lazy.regex(r"\bit(?:\s+is|'s|’s)\s+(?:\w+ly\s+)?(?:reported|believed|known|estimated|thought|established|accepted"
                r"|said|claimed|rumou?red|understood"
                r"|recognised|recognized|documented|argued)\s+that\b", re.IGNORECASE)),
    # "it has been shown", "has been demonstrated", "have been linked to"
    # "shown/found/proven" report a finding only with what was found: "has been shown to reduce", "... that";
    # "the recipe has been shown to friends" and "the keys have been found" report none.
    ("a passive report of findings",
     lazy.regex(r"\b(?:has|have|had)\s+been\s+(?:\w+ly\s+)?(?:(?:shown|demonstrated|proven|proved|found)"
                r"(?:\s+(?:in|by|across|among|with|for|at|on|over)(?:\s+[\w'’-]+){1,4}?|\s*,(?:\s*[\w'’-]+){1,3}\s*,)?"
                r"\s*,?\s+"
                r"(?:that\b|to\s+(?!" + _NOT_A_VERB + r"\b)(?![a-z]*[^su\W]s\b)[a-z]+)"
                # "has been reported in patients", "has been linked to", not "has been documented using Sphinx"
                r"|(?:reported|documented|observed)(?=\s*(?:[.;,)]|$)|\s+(?:in|among|across|by|that|as|to|since"
                r"|worldwide|globally|elsewhere|previously|before|after|repeatedly|frequently|often)\b)"
                r"|linked\s+(?:to|with)|established\s+(?:that|as))\b", re.IGNORECASE)),
    # "there is strong evidence that", "there is growing evidence of"
    ("evidence invoked without its source",
     lazy.regex(r"\bthere\s+(?:is|are|has\s+been)\s+(?:\w+\s+){0,2}?(?:evidence|consensus|data|studies|research)"
                r"\s+(?:that|of|to\s+suggest|showing|linking|suggesting)\b", re.IGNORECASE)),
    # "is associated with a higher risk of", "are linked to"
    ("an association stated as fact",
     lazy.regex(r"\b(?:is|are|was|were)\s+(?:\w+ly\s+)?(?:associated\s+with|linked\s+(?:to|with)|correlated\s+with"
                r"|tied\s+to)\s+(?:a\s+|an\s+)?(?:\w+\s+){0,2}?(?:risk|rates?|incidence|odds|likelihood|chance"
                r"|increase|decrease|reduction|rise|decline|mortality|death|deaths|higher|lower|greater|better|worse"
                r"|improved|poorer)\b", re.IGNORECASE)),
    # "31% less likely", "accounts for 40% of", "a 40% rise in", "10% below the national average"
    ("a statistic stated as fact",
     lazy.regex(r"\b\d+(?:\.\d+)?\s*(?:%|percent|per\s+cent)\s+(?:more|less|higher|lower)\s+(?:likely|risk|chance)"
                r"|\baccounts?\s+for\s+(?:\w+\s+){0,2}?\d+(?:\.\d+)?\s*(?:%|percent|per\s+cent)"
                r"|\ba\s+\d+(?:\.\d+)?\s*(?:%|percent|per\s+cent)\s+(?:rise|increase|fall|drop|decline|reduction|jump)\s+in"
                r"|\b\d+(?:\.\d+)?\s*(?:%|percent|per\s+cent)\s+(?:below|above)\s+the\s+(?:national|global|EU|US|average)",
                re.IGNORECASE)),
    ("a known effect stated as fact",
     lazy.regex(r"\b(?:is|are)\s+(?:well\s+)?(?:known|proven|documented)\s+to\b", re.IGNORECASE)),
    # "X is said to have a lower risk of", "are thought to last", "is widely considered the best": hearsay that
    # carries a fact. ("is said to be positive if ..." defines a term: see DEFINITION_RE.)
    (HEARSAY,
     lazy.regex(r"\b(?:is|are)\s+(?:\w+ly\s+|also\s+|still\s+|now\s+)?(?:said|believed|thought|reported"
                r"|rumou?red|claimed|alleged|reputed|purported|understood|estimated|suspected)\s+to\s+(?:have\s+|be\s+)?"
                r"(?!" + _NOT_A_VERB + r"\b)(?![a-z]*[^su\W]s\b)[a-z]+"
                r"|\b(?:is|are)\s+(?:widely|universally)\s+(?:considered"
                r"|regarded|seen|viewed|accepted|recognised|recognized|acknowledged|believed|thought|held)"
                r"(?:\s+(?:to\s+be|as|that)\b|\s+(?:the|a|an|one)\s)"
                # "is often considered one of the best": a ranking someone made
                r"|\b(?:is|are)\s+(?:often|generally|commonly|usually|frequently)\s+(?:considered|regarded\s+as|seen\s+as)"
                r"\s+(?:one\s+of\s+the|among\s+the|the\s+(?:best|most|safest|healthiest|strongest|leading|greatest"
                r"|largest|oldest|first)|as\s+(?:\w+\s+)?(?:effective|good|safe|healthy|strong|useful|powerful)\s+as)\b"
                # "educational apps are supposed to boost reading": what someone promised, stated as a fact
                r"|\b(?:is|are)\s+supposed\s+to\s+(?:boost|improve|increase|reduce|lower|raise|help|prevent|cure|protect"
                r"|make|cause|lead|work|speed|slow|strengthen|ease|relieve|treat|support)\b", re.IGNORECASE)),
    # "large tech companies have reported that", "users have found that": a report of a group stated as fact
    ("a report attributed to a group",
     lazy.regex(r"\b[A-Za-z][a-z]{2,}s\s+have\s+(?:\w+ly\s+|also\s+|long\s+)?(?:reported|found|concluded|warned|shown"
                r"|argued|claimed|held|ruled|established|confirmed|demonstrated|noted|observed|estimated)\s+that\b")),
    # "an estimated 1 in 10 women", "an estimated 20 to 40 percent of dogs"
    ("a statistic stated as fact",
     lazy.regex(r"\ban\s+estimated\s+(?:\d|one|two|three|four|five|half|a\s+third|a\s+quarter)", re.IGNORECASE)),
    # "according to the FDA", "according to a 2021 report"
    ("an authority's position",
     lazy.regex(r"\b[Aa]ccording\s+to\s+(?:the\s+|a\s+|an\s+|recent\s+)?(?:[A-Z][\w.&-]*|\d{4}\s+\w+|"
                r"(?:recent\s+)?(?:study|survey|report|estimates|data|figures|statistics|experts))"
                r"|\b[Aa]ccording\s+to\s+(?:the\s+|a\s+|an\s+|one\s+|recent\s+|new\s+)?(?:[\w-]+\s+){0,2}?"
                r"(?:study|studies|survey|surveys|report|reports|poll|polls|estimates?|data|figures|statistics"
                r"|analysis|research|census|researchers|scientists|police|officials|authorities|manufacturer"
                r"|government|ministry|experts|economists|analysts)\b")),
    # "40% of patients", "one in five adults", "nearly half of users"
    ("a statistic about a population",
     lazy.regex(r"(?:\b\d+(?:\.\d+)?(?:\s*(?:to|-|–)\s*\d+(?:\.\d+)?)?\s*(?:\\?%|percent|per\s+cent)|\b(?:one|two|three|four)\s+(?:in|out\s+of)"
                r"\s+(?:every\s+)?(?:two|three|four|five|six|seven|eight|nine|ten|\d+)"
                r"|\b(?:nearly|almost|over|more\s+than|about|roughly|around)\s+(?:half|a\s+third|a\s+quarter"
                r"|two-thirds|three-quarters)|(?<![\w,.])\d[\d,.]*\s+(?:million|billion))\s+(?:of\s+)?(?:all\s+|the\s+|the\s+world's\s+|us\s+|u\.s\.\s+)?"
                r"(?:[a-z-]+\s+)?" + POPULATIONS + r"\b", re.IGNORECASE)),
    # "a study published in the Journal of X found", "a 2020 survey by Gallup showed"
    ("a study described but not cited",
     lazy.regex(r"\b(?:a|one|another|the|recent|new|large|landmark)\s+(?:\w+\s+){0,3}?(?:study|survey|trial|"
                r"meta-analysis|review|report|analysis|poll|experiment|paper)\b[^.;]{0,120}?\b(?:found|finds|"
                r"showed|shows|reported|reports|concluded|concludes|revealed|reveals|suggests|suggested|"
                r"demonstrated|estimated|estimates)\b", re.IGNORECASE)),
)
# Sources that are the author's own work, not a claim about someone else's: "our data show", "this study found".
OWN_WORK_RE = lazy.regex(r"\b(?:our|this|the\s+present|the\s+current|the\s+pilot|these|my|we|here\s+we)\s+"
                         r"(?:[\w'’-]+\s+){0,2}?"
                         r"(?:study|studies|data|results?|findings|analysis|analyses|experiments?|survey|trial"
                         r"|review|paper|report|records|measurements|observations|benchmarks|estimates|figures"
                         r"|numbers|models?|simulations?|tests|logs|sales|interviews)\b", re.IGNORECASE)
# A pointer to the document's own figure or table: the sentence reports the author's own results.
OWN_FIGURE_RE = lazy.regex(r"\((?:see\s+)?(?:Fig(?:ure)?|Table|Supplementary)\.?\s*[A-Z]?\d", re.IGNORECASE)
# Any citation mark: [1], [1-3], ¹, ^1^, <sup>, (Smith, 2019), Smith (2019), \cite{..}, [@key], [^note], \footnote.
# A bracket with a key ([see @smith, p. 3]) and a parenthesis with a year ((Smith, 2019)) are found by
# BRACKET_GROUP_RE and PAREN_GROUP_RE, then their insides tested: one pattern for the whole ("[...@key...]")
# scans to the end of the text again from every position of an unclosed group (quadratic time).
CITATION_MARK_RE = lazy.regex(
    r"\[\d{1,3}(?:\s*[-–,]\s*\d{1,3})*\]|[⁰¹²³⁴⁵⁶⁷⁸⁹]|\^\d+\^|<sup>|\[\^[^\]]+\]"
    r"|\\" + CITE_COMMAND + r"\*?\s*[\[{]|\\footnote"
    r"|(?<![\w.])-?@[A-Za-z_][\w:.#$%&+?<>~/-]*"
    r"|(?<=[A-Za-z.,;)])\s?\(\d{1,3}(?:\s*[-–,]\s*\d{1,3})*\)(?=[.,;:]|\s*$)"
    r"|\bet\s+al\.?,?\s+(?:1[5-9]\d\d|20\d\d)|\b(?:doi:|https?://)"
    # a link: prose() blanks its address, "[the report](https://...)" reads "[the report](      )"
    r"|\]\(\s{6,}|\]\(\s*(?:\)|$)|<\s{6,}>|\\(?:url|href)\{"
)
BRACKET_GROUP_RE = lazy.regex(r"\[([^\[\]]*)\]")  # a bracket with no bracket inside
BRACKET_KEY_RE = lazy.regex(r"@[\w:.#$%&+?<>~/-]")  # [@key], [see @key, p. 3]
PAREN_GROUP_RE = lazy.regex(r"\(([^()]*)\)")  # a parenthesis with no parenthesis inside
PAREN_YEAR_RE = lazy.regex(r"\b(?:1[5-9]\d\d|20\d\d)[a-z]?\b")  # (Smith, 2019), (2019a)
# Quoted text: “...” or "...". Cues inside quotes belong to a title or someone else's words.
QUOTED_RE = lazy.regex(r"“[^”]*”|\"[^\"]*\"|‘[^’]{8,}’")  # what quoted_spans finds, in linear time
_QUOTE_CLOSERS = {"“": "”", '"': '"', "‘": "’"}
_QUOTE_MIN_INSIDE = {"“": 0, '"': 0, "‘": 8}  # a ‘single’ quotation holds 8 characters at least: "‘n’", "rock ‘n’ roll"


def quoted_spans(text: str) -> list[tuple[int, int]]:
    """The (start, end) of every match of QUOTED_RE in text, in order, found as QUOTED_RE.finditer would find them
    but in linear time: the regex reads to the end of the text from every opening mark that is never closed
    ("‘" repeated: quadratic), where here each mark's next position is looked up once and kept until passed."""
    spans: list[tuple[int, int]] = []
    cached: dict[str, int] = {}  # mark -> its first position at or after the last lookup (-1: there is none)

    def next_at(mark: str, position: int) -> int:
        found = cached.get(mark)
        if found is None or 0 <= found < position:  # lookups only move forwards, so none is ever read twice
            found = cached[mark] = text.find(mark, position)
        return found

    position = 0
    while True:
        found = [at for at in (next_at(mark, position) for mark in _QUOTE_CLOSERS) if at >= 0]
        if not found:
            return spans
        opening = min(found)
        mark = text[opening]
        close = next_at(_QUOTE_CLOSERS[mark], opening + 1)
        if close >= 0 and close - opening - 1 >= _QUOTE_MIN_INSIDE[mark]:
            spans.append((opening, close + 1))
            position = close + 1
        else:
            position = opening + 1


def _without_quotations(text: str) -> str:
    """QUOTED_RE.sub(" ", text) in linear time."""
    pieces: list[str] = []
    last = 0
    for start, end in quoted_spans(text):
        pieces += (text[last:start], " ")
        last = end
    return "".join(pieces) + text[last:]

# --- KR505 cues ---------------------------------------------------------------------------------
QUOTE_MIN_WORDS = 4  # scare quotes and quoted titles of one to three words are not direct quotations
# A name starts a word and has at most six parts: unbounded, a long run of capitals would be scanned once
# from every letter (quadratic time).
_PERSON = (r"(?<![\w'’.-])(?:(?:Dr|Prof|Mr|Mrs|Ms|Sen|Rep|Gov|Gen|Sir|Dame)\.?\s+)?"
           r"[A-Z][\w'’.-]+(?:\s+(?:[A-Z][\w'’.-]+|de|van|von|al)){0,5}")
TITLES_RE = lazy.regex(r"\b(?:Dr|Prof|Professor|Director|Senator|Minister|President|CEO|Chief|Commissioner"
                       r"|Secretary|Secretary-General|Governor|Mayor|Chancellor|Ambassador|Judge|Justice"
                       r"|Spokesperson|Chairman|Chairwoman)\b\.?"
                       r"|,\s*(?:a|an|the)?\s*[\w\s-]{0,40}\b(?:spokes(?:person|man|woman)|pharmacist|professor|"
                       r"researcher|scientist|director|officer|physician|doctor|expert|psychiatrist|author|head|"
                       r"chair|founder|analyst|economist|advisor|adviser|consultant|lecturer|editor)\b"
                       # "at the University", not "at the lavender": the organisation keeps its capital
                       r"|\b(?:of|at)\s+(?:the\s+)?(?-i:[A-Z])", re.IGNORECASE)
SOURCING_VERBS = (r"(?:told|explained|explains|noted|notes|stated|states|wrote|writes|warned|warns|argued|argues"
                  r"|added|adds|observed|observes|remarked|commented|comments|cautioned|emphasized|emphasised"
                  r"|insisted|concluded|declared|admitted|acknowledged|advised|advises|recalled|recalls|urged"
                  r"|urges|asserted|asserts|maintained|predicted|pointed\s+out)")
# Who speaks for an institution, written in lower case: "the commissioner stated", "the conservation trust said".
_ROLES = (r"(?:ministry|agency|department|council|commission|bank|board|institute|federal\s+reserve|trust"
          r"|foundation|charity|company|government|authority|regulator|commissioner|minister|secretary"
          r"|spokes(?:person|man|woman)|director|ceo|chair(?:man|woman)?|president|governor|mayor|senator"
          r"|prosecutor|judge)")
DIALOGUE_VERBS = r"(?:said|says)"  # used in fiction too: flagged only with a title, role or organisation
_OPEN = r"[“\"]"
# Where a person works, after the name: "Attorney Marcus Bell of the Eastside Tenants Union explains: “...”".
_AFFILIATION = r"(?:\s+(?:of|at|from|with)\s+(?:the\s+)?[A-Z][\w'’.&-]*(?:\s+(?:of\s+)?[A-Z][\w'’.&-]*){0,5})?"
# Who speaks for an organisation without a name: "a spokesperson for the Home Energy Advice Service".
_SPOKESPERSON = (r"(?:[a-z-]+\s+)?(?:spokes(?:person|man|woman)|representative|official|press\s+officer)\s+"
                 r"(?:for|of|at|from)\s+(?:the\s+)?[A-Z][\w'’.&-]*(?:\s+(?:of\s+|for\s+)?[A-Z][\w'’.&-]*){0,5}")
# A Markdown bold label closes after its colon: "**Dr. Jane Roe, cardiologist:** “...”".
_COLON = r"\s*:(?:\*\*|__|\*|_)?\s*"
SOURCING_CUE = "a quotation with a sourcing verb"
NAME_VERB_COLON = "a quotation introduced by a name, a verb and a colon"
QUOTE_CUES: tuple[tuple[str, re.Pattern[str], bool], ...] = (
    # (why, pattern, needs a title/role for the name) -- "Dr. Emily Chen, Clinical Pharmacist: “...”"
    ("a quotation introduced by a name and a colon",
     lazy.regex(r"(?P<who>" + _PERSON + r")(?:\s*,\s*[^:“\"]{2,60})?" + _COLON + _OPEN), False),
    # "Local guide Inês Moura puts it simply: “...”", "Engineering manager Sofia Lindqvist sums it up: “...”"
    (NAME_VERB_COLON,
     lazy.regex(r"(?P<who>" + _PERSON + r")" + _AFFILIATION + r"(?:\s*,[^,“\"]{2,80},)?\s+(?:[a-z]+(?:s|ed)|told|put"
                r"|said|wrote|gave|had)(?:\s+[a-z]+){0,3}" + _COLON + _OPEN), False),
    # "“...” — Dr. Jane Roe, cardiologist" (a Markdown blockquote's attribution line)
    ("a quotation attributed after a dash",
     lazy.regex(r"[”\"]\s*[.,]?\s*(?:—|–|--)\s*(?P<who>" + _PERSON + r")"), False),
    # "A spokesperson for the Home Energy Advice Service said: “...”", "“...,” an official at the ministry said"
    ("a quotation from an organisation's spokesperson",
     lazy.regex(r"\b(?:[Aa]n?|[Tt]he|[Oo]ne)\s+(?P<who>" + _SPOKESPERSON + r")\s+(?:\w+ly\s+)?(?:" + DIALOGUE_VERBS
                + r"|" + SOURCING_VERBS + r")\b[^“\"]{0,40}?[,:]?\s*" + _OPEN
                + r"|[”\"],?\s*(?:(?:" + DIALOGUE_VERBS + r"|" + SOURCING_VERBS + r")\s+)?(?:an?|the|one)\s+(?P<who2>"
                + _SPOKESPERSON + r")"), False),
    ("a quotation attributed with “as … put it”",
     lazy.regex(r"\b[Aa]s\s+(?:(?:the\s+)?(?:[a-z-]+\s+){1,3})?(?P<who>(?:the\s+)?" + _PERSON + r")"
                r"(?:\s*,[^,“\"]{2,60},)?"
                r"\s+(?:(?:famously|once|memorably|later)\s+)?(?:put\s+it|puts\s+it|wrote|"
                r"writes|said|says|noted|observed|argued|explained)\b,?\s*:?\s*" + _OPEN), False),
    # "The economic historian Lena Hartmann describes the League as “...”", "Dr. Roe called it “...”"
    ("a quotation that names what a source called something",
     lazy.regex(r"(?P<role4>\b(?:[a-z-]+\s+){1,3})?(?P<who>" + _PERSON + r")(?:\s*,[^,“\"]{2,80},)?\s+"
                r"(?:describes|described|calls|called|dubs|dubbed"
                r"|labels|labelled|labeled|characteri[sz]es|characteri[sz]ed|sums\s+up|summed\s+up)\b[^“\".!?]{0,80}?"
                + _OPEN), True),
    ("a quotation attributed with “according to”",
     lazy.regex(r"\b(?:[Aa]ccording\s+to|[Ii]n\s+the\s+words\s+of)\s+(?P<who>(?:the\s+)?" + _PERSON
                + r")[^“\"]{0,60}?,\s*" + _OPEN), False),
    (SOURCING_CUE,
     lazy.regex(r"(?P<who>" + _PERSON + r")(?:\s*,[^,“\"]{2,80},)?\s+(?:(?:once|later|also|then|\w+ly)\s+)?"
                + SOURCING_VERBS + r"\b[^“\"]{0,40}?[,:]?\s*"
                + _OPEN + r"|[”\"],?\s*(?P<who2>" + _PERSON + r")(?:\s*,[^,“\"]{2,80},?)?\s+" + SOURCING_VERBS
                + r"\b|[”\"],?\s*" + SOURCING_VERBS + r"\s+(?:[a-z]+\s+)?(?P<who3>" + _PERSON + r")"
                + r"|[”\"],?\s*the\s+(?P<who4>(?:[A-Z][\w-]*\s+)*[a-z]*\s*(?:" + _ROLES + r"|[A-Z][\w-]*))\s+"
                + SOURCING_VERBS + r"\b"
                + r"|\b[Tt]he\s+(?P<who5>(?:[a-z-]+\s+)?" + _ROLES + r")\s+(?:\w+ly\s+)?" + SOURCING_VERBS
                + r"\b[^“\"]{0,40}?[,:]?\s*" + _OPEN),
     False),
    ("a quotation with “said” and a named source's title or role",
     lazy.regex(r"(?P<who>" + _PERSON + r")(?P<role>\s*,[^,“\"]{2,80},)?\s+" + DIALOGUE_VERBS + r"\b,?\s*:?\s*"
                + _OPEN + r"|[”\"],?\s*" + DIALOGUE_VERBS + r"\s+(?P<who3>" + _PERSON + r")"
                + r"(?P<role3>\s*,[^.“\"]{2,80})?"
                + r"|[”\"],?\s*(?P<who2>" + _PERSON + r")(?P<role2>\s*,[^,“\"]{2,80},?)?\s+" + DIALOGUE_VERBS + r"\b"
                # a role before the name: "says historian Dr. Margaret Ellison", "advises mortgage broker Luis Ferreira"
                + r"|[”\"],?\s*(?:" + DIALOGUE_VERBS + r"|" + SOURCING_VERBS + r")\s+(?P<role4>(?:[a-z-]+\s+){1,3})"
                + r"(?P<who4>" + _PERSON + r")"
                # an organisation speaks: "“...,” the British Association of Dermatologists said"
                + r"|[”\"],?\s*(?P<org>" + _ORGANISATION + r")\s+" + DIALOGUE_VERBS + r"\b"),
     True),
)
# How a narrator tags dialogue: a manner adverb or gesture right after the verb ("stated flatly", "added with
# a smile", "explained, grinning"). Reporting does not describe how a source spoke.
MANNER_RE = lazy.regex(r"\s*,?\s*(?:(?!(?:early|only|recently|publicly|previously|widely)\b)\w+ly\b(?!\s*[,:]?\s*[“\"])"
                       r"|with\s+a\s+(?:smile|grin|laugh|shrug|sigh|wink|nod)|grinning|smiling|laughing|shrugging"
                       r"|sighing|nodding|winking)")
# A narrator's dialogue tag: “...,” she whispered / “...?” asked the owl. Reporting says "said" or "told";
# a text with FICTION_TAGS of these is a story, and its quotations are its characters' (KR505 stays quiet).
FICTION_TAG_RE = lazy.regex(r"[”\"]\s*,?\s*(?:(?:he|she|they|I|we|it)\s+(?:said|asked|whispered|shouted|replied"
                            r"|muttered|cried|called|answered|laughed|sighed|murmured|snapped|yelled|gasped)\b"
                            r"|(?:asked|whispered|shouted|replied|muttered|cried|answered|sighed|murmured|snapped"
                            r"|yelled|gasped)\b)")
FICTION_TAGS = 3  # one or two "she asked" happen in interviews; three make a story
# Words that open a sentence in capitals but are not a source ("The", "This", "He" ...).
NOT_SOURCES = frozenset({"The", "This", "That", "These", "Those", "It", "He", "She", "They", "We", "I", "You",
                         "His", "Her", "Their", "Our", "My", "A", "An", "One", "Someone", "Everyone", "Nobody",
                         "Title", "Note", "Example", "Warning", "Tip", "Q", "A:", "Answer", "Question", "Quote",
                         "Translation", "Motto", "Slogan", "Caption", "Label", "Output", "Input", "Error", "Usage"})

# --- what makes a cue no claim, or a quotation sourced -------------------------------------------------
AUTHORITY = "an authority's position"
# "according to Fig. 1", "according to Q values", "according to the chain rule", "According to DPI, we have":
# a pointer or a derivation, not an authority.
NOT_AN_AUTHORITY_RE = lazy.regex(
    r"[Aa]ccording\s+to\s+(?:the\s+|a\s+|an\s+)?(?:(?:Fig|Figs|Figure|Figures|Table|Tables|Eq|Eqs|Equation|Equations"
    r"|Theorem|Lemma|Corollary|Proposition|Definition|Def|Section|Sec|Chapter|Appendix|Algorithm|Alg|Step|Remark"
    r"|Example|Listing|Box|Rule|Law|Property|Assumption)s?\b"
    r"|(?:[\w'’-]+\s+){0,3}?(?i:rule|rules|law|laws|theorem|duality|inequality|equation|formula|property|principle"
    r"|assumptions?|hypothesis|lemma|model|estimator|estimate"
    r"|distribution|definition|values?|scores?|weights?|probabilit(?:y|ies)|policy|schedule|order|criterion|criteria"
    r"|metric|loss|objective|algorithm|protocol|specification|spec|standard|documentation|docs|manual|format"
    r"|convention|syntax|grammar|version|type|size|priority|ranking|chain|expansion|decomposition|identity)\b"
    r"|[\w'’.-]+,\s+(?:we|one)\s)")
# "is said to be positive definite if ...": a definition, not hearsay.
# A cue inside an indirect question: "looks at what the evidence says", "asks whether studies show".
INDIRECT_QUESTION_RE = lazy.regex(r"\b(?:what|whether|how|if)\s+(?:the\s+|this\s+|that\s+|these\s+)?$", re.IGNORECASE)
DEFINITION_RE = lazy.regex(r"\b(?:if|iff|whenever|provided\s+that)\b")
# Verbs that are as often nouns after a source noun: "research report", "data links", "survey projects".
AMBIGUOUS_REPORTS = frozenset({"evidence reported without its source"})
AMBIGUOUS_REPORT_RE = lazy.regex(r"\b(?:report|reports|link|links|project|projects|rank|ranks|estimates"
                                 r"|highlights|records|figures)$", re.IGNORECASE)
REPORT_CONTINUES_RE = lazy.regex(r"\s+(?:that|a|an|the|no|higher|lower|more|less|fewer|similar|significant|increased"
                                 r"|decreased|reduced|improved|mixed|some|many|most|between|\d|(?:[\w'’-]+\s+){0,4}?"
                                 r"(?:to|with)\b)", re.IGNORECASE)
# Cues that a citation elsewhere in the paragraph or the one before answers: a survey defining what it cites.
NEARBY_CUES = frozenset({"a passive report of findings", "a known effect stated as fact"})
# The cue's subject is a work just cited: "their experiments showed", "the paper found", "ablation studies".
REFER_BACK_RE = lazy.regex(
    r"\b(?:their|they|the\s+(?:[\w-]+\s+){0,2}?(?:paper|papers|authors?|study|work|experiments?|results?|analysis|ablations?|method"
    r"|model|approach|researchers|team|evaluation|benchmark|survey|report)|these\s+(?:studies|works|papers|results"
    r"|authors|experiments|findings|methods|models)|this\s+(?:work|paper|study|method|approach|model)|its\s+authors"
    r"|ablation\s+stud(?:y|ies)|ablations)\b", re.IGNORECASE)
# A name of a method, model or organisation: two capitals or more ("DPR", "FixMatch", "GeDi", "BERT").
NAME_TOKEN_RE = lazy.regex(r"\b[A-Z][A-Za-z0-9]{0,20}[A-Z][A-Za-z0-9-]{0,20}\b")
# Acknowledgements, funding and availability statements report no evidence.
NOT_A_CLAIM_RE = lazy.regex(
    r"\b(?:was|were|is|are|been|being)\s+(?:\w+ly\s+)?(?:supported|funded|sponsored|financed)\s+(?:in\s+part\s+)?"
    r"(?:by|through|via|under)\b|\backnowledges?\b|\bwe\s+(?:also\s+)?thank\b|\bgrateful\b"
    r"|\b(?:are|is)\s+(?:\w+ly\s+)?available\s+(?:at|from|on|in|under|via|upon|through|for)\b", re.IGNORECASE)
BLOCKQUOTE_RE = lazy.regex(r"^\s*>")
TABLE_ROW_RE = lazy.regex(r"^\s*\|.*\|")  # a Markdown table's row: cells summarise, the text argues
# Where a quotation was given: "told Reuters", "told the author", "told *The City Ledger*".
TOLD_OUTLET_RE = lazy.regex(
    r"\btold\s+(?:the\s+author|this\s+(?:newspaper|paper|magazine|reporter|writer|site|publication|podcast|programme"
    r"|program|blog|station)|us|me|(?:the\s+)?[*_]?[A-Z])")
VENUE_RE = lazy.regex(
    r"\b(?:in|during|at|on)\s+[\[*_]?(?:an?\s+|the\s+|his\s+|her\s+|their\s+|its\s+)?(?:[\[*_]?[\w-]+\s+){0,3}?"
    r"(?:interview|conversation"
    r"|visit|profile|podcast|episode|broadcast|press\s+conference|speech|lecture|testimony|hearing|briefing|keynote"
    r"|talk|email|e-mail|letter|memoir|book|essay|article|column|op-ed|blog\s+post|tweet|documentary|newsletter"
    r"|press\s+release|statement|panel|webinar)s?\b", re.IGNORECASE)
DATE_RE = lazy.regex(r"\b(?:1[6-9]\d\d|20\d\d)\b|\b(?:January|February|March|April|June|July|August|September|October"
                     r"|November|December)\b")
VENUE_NAMED_RE = lazy.regex(r"\s+(?:with|to|for|in|on)\s+(?:the\s+author|this\s+\w+|us|me|(?:the\s+)?[*_]?[A-Z])")
# A paragraph that is one quotation and nothing else: a turn of a story's dialogue.
PURE_QUOTE_RE = lazy.regex(r"\s*[“\"][^“”\"]+[”\"]\s*")
# A transcript's speaker label: "HOST: ...", "**Dr. Achterberg:** ...", "Interviewer: ...".
SPEAKER_LABEL_RE = lazy.regex(r"^\s*(?:>\s*)?(?:\*\*|__)?(?P<label>[A-Z][\w.'’-]{0,30}(?:\s+[A-Z][\w.'’-]{0,30}){0,3})"
                              r"(?:\*\*|__)?\s*:(?:\*\*|__)?\s+\S")
# Labels that open a note, not a turn of speech.
NOT_SPEAKERS = frozenset({"note", "notes", "tip", "tips", "warning", "caution", "important", "disclaimer", "update",
                          "source", "sources", "example", "summary", "edit", "ps", "p.s", "nb", "n.b", "todo"})
# A role before a name ends as a noun of a trade or office does: "historian", "mortgage broker", "coach".
ROLE_NOUN_RE = lazy.regex(r"(?:ist|er|or|ar|ian|ant|ent|ee|man|woman|person|coach|chef|nurse|judge|expert|guide"
                          r"|head|chief|attorney|advocate|vet|pilot|official|medic)$")
TRANSCRIPT_LINES = 3  # a transcript has this many labelled lines or more, and repeats a label
# A name that is an organisation's: "the British Dietetic Association said".
INSTITUTION_RE = lazy.regex(r"\b(?:Association|Society|Institute|Agency|Department|Ministry|Council|Commission"
                            r"|Foundation|Organi[sz]ation|Bureau|Office|Service|Administration|Academy|College"
                            r"|University|Centre|Center|Trust|Board|Authority|Federation|Union|Alliance|Coalition"
                            r"|Company|Corporation|Inc|Ltd)\b")
_DETERMINERS = frozenset({"the", "a", "an", "his", "her", "their", "its", "our", "my", "your", "this", "that", "one",
                          "then", "also", "in", "at", "on", "to", "by", "and"})
# --- headings and back matter ---
HEADING_TEXT_RE = lazy.regex(
    r"^\s{0,3}#{1,6}\s+(?P<md>.*?)\s*#*\s*$"
    r"|^\s*\\(?:section|subsection|subsubsection|chapter|paragraph|part)\*?\s*(?:\[[^\]]*\])?\s*\{(?P<tex>[^}]*)"
    r"|^\s*\\(?P<ack>acknowledge?ments)\b|^\s*\\begin\{(?P<env>acknowledge?ments)\}")
BOLD_LINE_RE = lazy.regex(r"(?:\*\*|__)[^*_]{1,120}(?:\*\*|__)[:.]?")
TITLE_WORDS = 12  # a title-case line of more words is a sentence someone forgot to end
BACK_MATTER_RE = lazy.regex(
    r"acknowledge?ments?|\bfunding\b|financial\s+support|author\s*(?:(?:s'|'s)\s*)?contributions?"
    r"|\b(?:data|code|software|materials?|resource)(?:\s+and\s+\w+)?\s+availability|availability\s+of\s+(?:data|code"
    r"|materials?|software)"
    r"|competing\s+interests?|conflicts?\s+of\s+interests?|\bdeclarations?\b|\bdisclosures?\b|ethics\s+statement"
    r"|\bthanks\b", re.IGNORECASE)

_ABBREVIATIONS = lazy.regex(r"\b(?:Dr|Prof|Mr|Mrs|Ms|St|Jr|Sr|vs|etc|e\.g|i\.e|al|cf|Fig|No|Vol|approx|Inc|Ltd|Co"
                            r"|U\.S|U\.K|Sen|Rep|Gov|Gen|pp|p|ca)\.$")
_HEADING_RE = lazy.regex(r"^\s{0,3}#{1,6}\s|^\s*\\(?:section|subsection|subsubsection|paragraph|chapter|part|title"
                         r"|caption|label|acknowledge?ments)\b|^\s*\\(?:begin|end)\{acknowledge?ments\}")
_LIST_RE = lazy.regex(r"^\s{0,3}(?:[-*+•]|\d+[.)])\s+")
# The line under a setext heading ("Title" over "=====" or "-----"), or a horizontal rule.
_UNDERLINE_RE = lazy.regex(r"^\s{0,3}(?:=+|-+|\*\s*\*\s*\*[\s*]*)\s*$")
# Where a sentence ends: a full stop, question or exclamation mark, with any closing quotes, brackets or Markdown
# emphasis ("?**"), before a space and a capital, a digit, an opening quote or a LaTeX command.
_SENTENCE_END_RE = lazy.regex(r"[.!?][”\"’)*_]{0,3}(?=\s+[“\"‘(*_]{0,3}[A-Z0-9\\])")
_LINE_END_RE = lazy.regex(r"[.!?][”\"’)*_]{0,3}$")


@dataclass(frozen=True)
class Sentence:
    file: str
    line: int
    text: str
    column: int = 1  # where it starts on its line (1-based, in the line as written)


def paragraphs(body: Sequence[TextLine], one_per_line: bool = False) -> list[list[TextLine]]:
    """Body lines grouped into paragraphs: a blank line, a heading, a list item or code ends one.

    one_per_line: each line is a paragraph already (a .docx, whose lines are its paragraphs).
    """
    code = code_lines(body)
    groups: list[list[TextLine]] = []
    current: list[TextLine] = []
    for line in body:
        if (line.line in code or _HEADING_RE.match(line.text) or not line.text.strip()
                or _UNDERLINE_RE.match(line.text)):
            if current:
                groups.append(current)
            current = []
            continue
        if current and (one_per_line or line.line != current[-1].line + 1 or _LIST_RE.match(line.text)
                        or line.file != current[-1].file):
            groups.append(current)
            current = []
        current.append(line)
    if current:
        groups.append(current)
    return groups


QUOTED_SENTENCE_CHARS = 2_000  # a quotation held open longer than this is a stray quotation mark


def sentence_holding(split: Sequence[Sentence], line: int, marker: str) -> Sentence | None:
    """The sentence a mark on `line` sits in: the latest of the paragraph's sentences begun on or before that
    line that holds `marker`."""
    return next((s for s in reversed(split) if s.line <= line and marker in s.text), None)


def sentences(paragraph: Sequence[TextLine]) -> list[Sentence]:
    """The paragraph split into sentences, each with the line and column it starts at.

    A quotation of several sentences stays in the sentence that opens it, with its attribution. Linear in the
    paragraph's length: what ends a sentence is judged on the text's end and on running counts of quotation marks.
    """
    found: list[Sentence] = []
    parts: list[str] = []
    size = opened = closed = straight = 0
    start: tuple[str, int, int] | None = None
    for line in paragraph:
        masked = prose(line.text)
        text = masked.strip()
        lead = len(masked) - len(masked.lstrip())  # the columns of `text` in the line as written
        begins = [0, *(m.end() for m in _SENTENCE_END_RE.finditer(text))]
        tokens = [text[a:b] for a, b in zip(begins, [*begins[1:], len(text)], strict=True)]
        for position, token in enumerate(tokens):
            if start is None:
                offset = begins[position] + len(token) - len(token.lstrip())
                start = (line.file, line.line, lead + offset + 1)
            token = token.strip()
            if token:
                parts.append(token)
                size += len(token) + 1
                opened += token.count("“")
                closed += token.count("”")
                straight += token.count('"')
            ends_line_sentence = position < len(tokens) - 1 or _LINE_END_RE.search(token)
            end = " ".join(parts[-2:]).rstrip("”\"’)*_")  # the sentence's end: enough to see "Dr." or "e.g."
            quoting = (opened > closed or straight % 2 == 1) and size < QUOTED_SENTENCE_CHARS
            if ends_line_sentence and not _ABBREVIATIONS.search(end) and not quoting:
                found.append(Sentence(start[0], start[1], " ".join(parts), start[2]))
                parts, size, opened, closed, straight, start = [], 0, 0, 0, 0, None
    if parts and start is not None:
        found.append(Sentence(start[0], start[1], " ".join(parts), start[2]))
    return found


def has_citation(text: str) -> bool:
    if CITATION_MARK_RE.search(text) is not None:
        return True
    if "[" in text and any(BRACKET_KEY_RE.search(group.group(1)) for group in BRACKET_GROUP_RE.finditer(text)):
        return True
    return "(" in text and any(PAREN_YEAR_RE.search(group.group(1)) for group in PAREN_GROUP_RE.finditer(text))


def _unclosed(sentence: str) -> int | None:
    """Where the quotation the sentence opens and never closes begins, or None."""
    if sentence.count("“") > sentence.count("”"):
        return sentence.find("“", sentence.rfind("”") + 1)
    if sentence.count('"') % 2 == 1:
        return sentence.rfind('"')
    return None


def _unquoted(sentence: str) -> str:
    """The sentence without its quotations (titles, someone else's words), an unfinished one included."""
    start = _unclosed(sentence)
    return _without_quotations(sentence if start is None else sentence[:start])


def _claim_match(sentence: str) -> tuple[str, re.Match[str], str] | None:
    """(why, the cue's match, the sentence without quotations) for the first claim cue, or None."""
    unquoted = _unquoted(sentence)
    if unquoted.rstrip().rstrip("*_").endswith("?") or OWN_FIGURE_RE.search(unquoted):
        return None
    for why, pattern in CLAIM_CUES:
        for match in pattern.finditer(unquoted):
            before = unquoted[max(0, match.start() - 40) : match.end()]
            if OWN_WORK_RE.search(before) and "according" not in match.group(0).lower():
                continue
            if INDIRECT_QUESTION_RE.search(unquoted, max(0, match.start() - 30), match.start()):
                continue  # "this guide looks at what the evidence says": a question the text will answer
            if why == HEARSAY and "said to be" in match.group(0).lower() and DEFINITION_RE.search(unquoted,
                                                                                                  match.end()):
                continue  # "a matrix is said to be positive if ...": a definition
            if why == AUTHORITY and NOT_AN_AUTHORITY_RE.match(unquoted, match.start()):
                continue  # "according to Fig. 1", "according to the chain rule": no authority
            if (why in AMBIGUOUS_REPORTS and AMBIGUOUS_REPORT_RE.search(match.group(0))
                    and not REPORT_CONTINUES_RE.match(unquoted, match.end())):
                continue  # "The term research report.": a noun, not a report
            return why, match, unquoted
    return None


def _quotations(sentence: str) -> list[str]:
    start = _unclosed(sentence)
    quoted = sentence if start is None else sentence[:start]
    spans = [quoted[a:b] for a, b in quoted_spans(quoted)]
    if start is not None:
        spans.append(sentence[start:])
    return [q for q in spans if len(q.strip("“”\"‘’").split()) >= QUOTE_MIN_WORDS]


def quote_cue(sentence: str) -> tuple[str, str] | None:
    """(why, who) when the sentence holds a direct quotation attributed to a named source, else None."""
    if not _quotations(sentence):
        return None
    for why, pattern, needs_role in QUOTE_CUES:
        for match in pattern.finditer(sentence):
            groups = match.groupdict()
            who = next((groups[g] for g in ("who", "who2", "who3", "who4", "who5", "org") if groups.get(g)), None)
            if not who:
                continue
            who = re.sub(r"^(?:the|The)\s+", "", who)
            first = who.split()[0]
            if first in NOT_SOURCES or first.rstrip(".") in NOT_SOURCES:
                continue
            if MANNER_RE.match(sentence, match.end()):
                continue  # "added with a smile", "stated flatly": a narrator's dialogue tag, not a source
            if needs_role:
                role = next((groups[g] for g in ("role", "role2", "role3") if groups.get(g)), "") or ""
                role_before = [w for w in (groups.get("role4") or "").split() if w not in _DETERMINERS]
                if role_before and not ROLE_NOUN_RE.search(role_before[-1]):
                    role_before = []  # "said old Mr. Hale": an adjective, not a role
                # present-tense "says" with who the speaker is ("says Priya, a mother of two") is reporting
                appositive = bool(re.match(r"\s*,\s*(?:a\s|an\s|\d{1,3}\b)", role)) and re.search(r"\bsays\b",
                                                                                             match.group(0))
                if not (groups.get("org") or role_before or appositive or INSTITUTION_RE.search(who)
                        or TITLES_RE.search(who + (role or ""))):
                    continue
            elif (why in (SOURCING_CUE, NAME_VERB_COLON) and len(who.split()) < 2
                  and not re.fullmatch(r"[A-Z][A-Z&]+", who) and not groups.get("who4") and not groups.get("who5")):
                continue  # a bare first name or surname with "explained": a character as often as a source
            return why, who.strip()
    return None


def stated_source(sentence: str) -> bool:
    """True when the sentence says where its quotation was given: "told Reuters", "in an interview with the
    author on 14 November 2023", "in a 2021 interview with *Grow Your Own* magazine"."""
    if TOLD_OUTLET_RE.search(sentence):
        return True
    venue = VENUE_RE.search(sentence)
    return venue is not None and (DATE_RE.search(sentence) is not None
                                  or VENUE_NAMED_RE.match(sentence, venue.end()) is not None)


def _dialogue_turns(grouped: Sequence[Sequence[Sentence]]) -> int:
    """Paragraphs that are nothing but a quotation: turns of a dialogue (“Can the lifeboat get there in time?”)."""
    return sum(1 for found in grouped if found and PURE_QUOTE_RE.fullmatch(" ".join(s.text for s in found)))


def _is_fiction(grouped: Sequence[Sequence[Sentence]]) -> bool:
    """True when the text tells a story: FICTION_TAGS or more narrator's dialogue tags ("she whispered"), or
    more than FICTION_TAGS of them and the turns of its dialogue (“Can they get there in time?”) together."""
    tags = sum(len(FICTION_TAG_RE.findall(s.text)) for found in grouped for s in found)
    return tags >= FICTION_TAGS or tags + _dialogue_turns(grouped) > FICTION_TAGS


def _speaker_labels(body: Sequence[TextLine]) -> frozenset[str]:
    """The labels of a transcript, play or dialogue ("HOST:", "**Dr. Achterberg:**", "Interviewer:"): every
    label of a text with three labelled lines or more, one label opening two of them or more."""
    counts: dict[str, int] = {}
    for line in body:
        label = SPEAKER_LABEL_RE.match(line.text)
        if label is not None and label.group("label").strip().lower().rstrip(".") not in NOT_SPEAKERS:
            name = label.group("label").strip().lower()
            counts[name] = counts.get(name, 0) + 1
    if sum(counts.values()) < TRANSCRIPT_LINES or max(counts.values()) < 2:
        return frozenset()
    return frozenset(counts)


@dataclass(frozen=True)
class _Layout:
    """What the editor rules know of a body beyond its sentences."""

    headings: dict[int, str]  # line -> the text of the heading that opens the section the line is in
    back_matter: frozenset[int]  # lines of acknowledgements, funding, data and code availability sections
    heading_lines: frozenset[int]  # lines that are headings themselves (setext, bold-only, title-case lines)


def _heading_text(text: str) -> str | None:
    """The title of a heading line (Markdown, LaTeX), or None."""
    match = HEADING_TEXT_RE.match(text)
    if match is None:
        return None
    return next(g for g in match.groups() if g is not None) if any(match.groups()) else text.strip()


def looks_like_heading(text: str, next_text: str = "") -> bool:
    """A line that stands as a heading: underlined (setext), bold from end to end, or a short title-case line
    without a final full stop ("Further Reading and Research Links")."""
    stripped = text.strip()
    if not stripped or _LIST_RE.match(text):
        return False
    if _UNDERLINE_RE.match(next_text) and not _UNDERLINE_RE.match(text):
        return True
    if BOLD_LINE_RE.fullmatch(stripped):
        return True
    words = re.findall(r"[A-Za-z][\w'’-]*", stripped)
    if not words or len(words) > TITLE_WORDS or re.search(r"[.!?;,:]$", stripped.rstrip("*_")):
        return False
    long_words = [w for w in words if len(w) > 3 or w == words[0]]
    return all(w[0].isupper() for w in long_words)


def layout(body: Sequence[TextLine]) -> _Layout:
    headings: dict[int, str] = {}
    back: set[int] = set()
    heading_lines: set[int] = set()
    code = code_lines(body)
    current = ""
    in_back = False
    env_back = False
    previous_blank = True
    for index, line in enumerate(body):
        text = line.text
        if line.line in code:
            previous_blank = False
            continue
        next_text = body[index + 1].text if index + 1 < len(body) else ""
        title = _heading_text(text)
        if title is None and previous_blank and (not next_text.strip() or _UNDERLINE_RE.match(next_text)) \
                and looks_like_heading(text, next_text):
            title = text.strip().strip("*_").strip()
            heading_lines.add(line.line)
        if re.match(r"\s*\\begin\{acknowledge?ments\}", text):
            env_back = True
        if title is not None:
            current = title
            in_back = BACK_MATTER_RE.search(title) is not None
        if in_back or env_back:
            back.add(line.line)
        if re.match(r"\s*\\end\{acknowledge?ments\}", text):
            env_back = False
        if re.match(r"\s*\\(?:bibliography|printbibliography|begin\{thebibliography\})", text):
            in_back = False
        headings[line.line] = current
        previous_blank = not text.strip()
    return _Layout(headings, frozenset(back), frozenset(heading_lines))


def _cited_names(all_sentences: Sequence[Sentence]) -> frozenset[str]:
    """Names of methods, models and organisations that the text cites somewhere ("DPR (Karpukhin et al.,
    2020)"): a later "DPR found that ..." refers back to the cited work."""
    names: set[str] = set()
    for sentence in all_sentences:
        if has_citation(sentence.text):
            names.update(NAME_TOKEN_RE.findall(sentence.text))
    return frozenset(names)


def _refers_back(unquoted: str, match: re.Match[str], cited_names: frozenset[str]) -> bool:
    """True when the cue's subject points at a work already named: "their experiments showed", "the paper
    found", "these studies", "DPR found" (DPR cited earlier)."""
    head = unquoted[: match.end()]
    if REFER_BACK_RE.search(head):
        return True
    return any(name in cited_names for name in NAME_TOKEN_RE.findall(head))


def _findings_for_body(doc: Document) -> Iterator[Finding]:
    paras = paragraphs(doc.body, one_per_line=doc.format == "docx")
    grouped = [sentences(paragraph) for paragraph in paras]
    flat = [s for found in grouped for s in found]
    fiction = _is_fiction(grouped)
    labels = _speaker_labels(doc.body)
    turns = {line.line for line in doc.body
             if (label := SPEAKER_LABEL_RE.match(line.text)) and label.group("label").strip().lower() in labels}
    shape = layout(doc.body)
    cited_names = _cited_names(flat)
    previous_cited = section_cited = False
    section = None
    for paragraph, found in zip(paras, grouped, strict=True):
        if not found:
            continue
        heading = shape.headings.get(paragraph[0].line, "")
        if heading != section:
            section, section_cited = heading, has_citation(heading)
        cited = [has_citation(s.text) for s in found]
        # cited_from[i]: sentence i or a later one of the paragraph is cited (one pass, not one per sentence)
        cited_from = [*cited, False]
        for index in range(len(cited) - 1, -1, -1):
            cited_from[index] = cited[index] or cited_from[index + 1]
        # what a sentence that refers back ("their experiments showed") may lean on
        near = any(cited) or previous_cited or section_cited
        previous_cited = any(cited)
        section_cited = section_cited or previous_cited
        if paragraph[0].line in shape.heading_lines and len(paragraph) == 1:
            continue
        if paragraph[0].line in shape.back_matter:
            continue
        quoted_block = all(BLOCKQUOTE_RE.match(line.text) or TABLE_ROW_RE.match(line.text) for line in paragraph)
        for index, sentence in enumerate(found):
            if cited_from[index]:
                continue  # cited here, or later in the paragraph: the support follows the claim
            location = Location(sentence.file, sentence.line)
            quote = None if fiction else quote_cue(sentence.text)
            if quote is not None:
                label = SPEAKER_LABEL_RE.match(sentence.text)
                if stated_source(sentence.text) or (label is not None and label.group("label").strip().lower()
                                                    in labels):
                    continue
                why, who = quote
                yield Finding(UNSOURCED_QUOTE, location,
                              f"quotation attributed to {who} has no citation ({why})",
                              "cite where the quotation was published, or remove it")
                continue
            if fiction or quoted_block:
                continue  # a story's narration, a block quoted from elsewhere and a table's cells argue nothing
            if sentence.line in turns:
                continue  # a turn of a transcript or a play: a speaker's words, not the document's claim
            found_cue = _claim_match(sentence.text)
            if found_cue is None:
                continue
            why, match, unquoted = found_cue
            if near and (why in NEARBY_CUES or _refers_back(unquoted, match, cited_names)):
                continue  # "Their experiments showed ...", "It has been shown to be useful in ..." after citations
            if NOT_A_CLAIM_RE.search(unquoted):
                continue  # acknowledgements, funding, availability of code and data
            yield Finding(UNSUPPORTED_CLAIM, location,
                          f"sentence reports evidence with no citation ({why}): {_short(sentence.text)}",
                          "cite the source, or rewrite it as your own hedged view")


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def judge_document(doc: Document, evidence: DocumentEvidence, ctx: Context) -> Iterator[Finding]:
    if has_text(doc):
        yield from _findings_for_body(doc)
