"""Editor rules: in-text citations against the reference list (KR501-503), claims and quotes (KR504-505)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kratomref.model import (
    Citation,
    Document,
    Evidence,
    Finding,
    Location,
    Lookup,
    Reference,
    Rule,
    SearchResolution,
    Severity,
    TextLine,
)
from kratomref.readers.intext import candidates, code_lines, prose
from kratomref.readers.latex import CITE_COMMAND
from kratomref.rules.placeholders import find_placeholders

if TYPE_CHECKING:
    from kratomref.rules import Context

UNDEFINED_CITATION = Rule(
    "KR501", "undefined-citation", Severity.ERROR,
    "An in-text citation matches no entry of the bibliography or reference list.",
    """What it does
  Ties every in-text citation to an entry: a LaTeX or pandoc key to the entry with that key, a number
  ([5], (5), ⁵) to the Nth item of the reference list, an author-year citation (Smith, 2019) to the entry
  whose first author's surname and year match. Reports each citation that matches nothing.

Why it matters
  LaTeX prints "[?]", pandoc prints the bare key, and a reader of a draft cannot find the source at all.

Example
  ... as shown before [5].     (the reference list has four items)

How to fix
  Add the missing entry, or correct the key, number or year of the citation.""",
)
UNCITED_REFERENCE = Rule(
    "KR502", "uncited-reference", Severity.WARNING,
    "An entry of the reference list is never cited in the text.",
    """What it does
  Reports each entry no in-text citation resolves to (LaTeX's \\nocite{*} turns it off). When the text
  cites nothing at all, one finding on the list's heading names the whole list instead.

Why it matters
  An uncited entry is padding, or the citation to it was lost in an edit; journals ask for neither.

Example
  References
  1. Smith J. ...   (no [1] anywhere in the text)

How to fix
  Cite the entry where it supports the text, or remove it from the list.""",
    advisory=True,
)
CITATION_MISMATCH = Rule(
    "KR503", "citation-mismatch", Severity.WARNING,
    "An author-year citation most likely means an entry but disagrees with its year or surname.",
    """What it does
  For an author-year citation that matches no entry exactly, finds the entry it most likely means: same
  first-author surname with a year at most 2 apart, or the same year with a surname spelled almost the
  same. Names that entry.

Why it matters
  A wrong year sends readers to a different paper, and reviewers read it as carelessness.

Example
  (Hassan et al., 2014)   with the entry Hassan, Z. et al. (2013)

How to fix
  Correct the citation (or the entry) so that surname and year agree.""",
)
UNSUPPORTED_CLAIM = Rule(
    "KR504", "unsupported-claim", Severity.WARNING,
    "A sentence reports evidence or an authority's position without a citation.",
    """What it does
  Flags a sentence with one of these cues and no citation in it or in the last sentence of its paragraph:
  - studies/research/evidence/data/trials/surveys/literature/experts/scientists/officials (and professions
    such as veterinarians or epidemiologists) + show, suggest, found, indicate, warn, agree, recommend...
    ("studies show", "research suggests", "evidence from Denmark suggests", "studies of X have found");
  - an organisation's estimate or finding: "the Federal Reserve estimates", "the FAO reported";
  - "has been shown to/that", "has been demonstrated to", "has been reported/linked", "is known to
    cause", "it is widely reported that",
    "there is strong evidence that", "is associated with a higher risk of";
  - "according to" + a capitalised name or organisation ("according to the FDA") or a kind of source
    ("according to a national survey", "according to police");
  - a statistic about a population ("40% of patients", "one in five adults", "1.7 million Americans") or
    stated as fact ("31% less likely", "accounts for 40% of", "a 40% rise in");
  - "a study/survey/trial/meta-analysis/report published in / by / from / of ... found/showed/reported".
  Not flagged: the author's own work ("our data show", "this study found", a sentence pointing at its own
  "(Figure 3)"), code, LaTeX comments, headings, questions, text inside quotation marks (titles), and
  sentences with a citation ([1], ¹, (Smith, 2019), Smith (2019), \\cite{...}, [@key], a footnote).

Why it matters
  "Studies show" with no study is the commonest sign of an unsupported or invented claim.

Example
  Studies show that kratom reduces opioid withdrawal symptoms.

How to fix
  Cite the study or authority, or soften the sentence into your own hedged view.""",
)
UNSOURCED_QUOTE = Rule(
    "KR505", "unsourced-quote", Severity.WARNING,
    "A direct quotation attributed to a named person or organisation has no citation.",
    """What it does
  Flags a quotation of at least 4 words in quotation marks that is attributed to a named source, with
  no citation in its sentence or closing its paragraph:
  - a name followed by a colon: Dr. Emily Chen, Clinical Pharmacist: “...”;
  - "as NAME put it / wrote / said", "according to NAME, “...”";
  - a name of two words or more, or an acronym, with a sourcing verb (told, explained, noted, stated,
    wrote, warned, argued, added, advised, declared...), or "the minister/agency/trust" + such a verb;
  - "said"/"says" when the name carries a title or role (Dr., Professor, Secretary, a spokesperson,
    "of/at" an organisation).
  Not flagged: short quoted phrases (scare quotes, titles), quotations with no named source, dialogue
  with a bare first name and "said" or a manner phrase ("stated flatly", "added with a smile"), every
  quotation of a story (three or more narrator's tags such as "she whispered", "asked the owl"), and
  quotes cited in their sentence or paragraph.

Why it matters
  Invented experts with invented quotes are a hallmark of machine-written drafts; an editor must be able
  to trace every quotation.

Example
  Dr. Emily Chen, Clinical Pharmacist: “Kratom is safer than most people think.”

How to fix
  Cite where the quotation was published (interview, article, report), or remove it.""",
)

RULES = (UNDEFINED_CITATION, UNCITED_REFERENCE, CITATION_MISMATCH, UNSUPPORTED_CLAIM, UNSOURCED_QUOTE)

# --- KR503: how close a citation must be to an entry to be "most likely" it -------------------------
YEAR_SLIP = 2  # a year off by one or two is a typo or preprint/print year; further apart is another work
SURNAME_SIMILARITY = 0.8  # difflib ratio: "Hasan"/"Hassan" 0.91, "Smith"/"Smyth" 0.8, "Lee"/"Li" 0.4

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
                 r"|(?:recent|previous|earlier|prior|empirical|archival|experimental|clinical)\s+work)")
_EVIDENCE_VERBS = (r"(?:show|shows|showed|suggest|suggests|suggested|find|finds|found|indicate|indicates"
                   r"|indicated|demonstrate|demonstrates|demonstrated|confirm|confirms|confirmed|prove|proves"
                   r"|proved|reveal|reveals|revealed|report|reports|reported|link|links|linked|agree|agrees"
                   r"|warn|warns|warned|believe|believes|estimate|estimates|estimated|point\s+to|points\s+to"
                   r"|say|says|recommend|recommends|consistently\s+show|also\s+\w+"
                   # "have found", "has long been linked", "have consistently failed to show", "have examined"
                   r"|(?:have|has)\s+(?:\w+ly\s+|long\s+|also\s+|now\s+|repeatedly\s+)?(?:been\s+)?(?:shown|found"
                   r"|demonstrated|suggested|indicated|confirmed|proven|proved|revealed|reported|linked|established"
                   r"|documented|observed|concluded|warned|argued|estimated|identified|noted|highlighted|questioned"
                   r"|failed\s+to\s+\w+|examined|investigated|explored|tied|associated|connected|discovered"
                   r"|recommended|agreed|accepted|cautioned|predicted|outperformed)"
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
                 r"|Society|Foundation|Centers|Centre|Center|Service|Administration|Fund|Academy|Agency))")
# Who a statistic is about: "40% of patients", "one in five adults" ("50% of the text" is not a claim).
POPULATIONS = (r"(?:patients|people|adults|children|kids|teens|teenagers|adolescents|users|americans|britons"
               r"|respondents|women|men|students|workers|employees|consumers|participants|cases|deaths"
               r"|households|voters|smokers|drivers|doctors|nurses|parents|infants|population|residents"
               r"|citizens|companies|businesses|firms|species|infections|survivors|veterans|seniors"
               r"|individuals|customers|internet\s+users|the\s+population|teachers|pupils|inmates|prisoners"
               r"|offenders|graduates|mothers|girls|boys|europeans|americans|canadians|australians|youth"
               r"|young\s+people|older\s+adults|farmers|athletes|readers|viewers|renters|homeowners|runners"
               r"|shoppers|travellers|travelers|owners|drinkers|gamers|visitors|buyers|borrowers|investors"
               r"|retirees|pensioners|immigrants|refugees|victims|applicants)")
# Words after "shown to" that make it a showing, not a finding: "shown to friends", "shown to the board".
# (A plural noun is told apart from a verb by its final s: "to friends", but "to reduce", "to process".)
_NOT_A_VERB = (r"(?:the|a|an|me|him|her|us|them|you|his|their|my|our|your|its|this|these|those|each|every|all"
               r"|many|some|any|no|visitors|family|everyone|everybody|people)")
CLAIM_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    # "studies show", "recent research suggests", "a growing body of evidence indicates"
    ("evidence reported without its source",
     re.compile(r"\b" + _SOURCE_NOUNS + _SOURCE_QUALIFIER + r"\s+(?:(?:have|has|now|also|consistently|repeatedly"
                r"|clearly|increasingly|\w+ly)\s+)*" + _EVIDENCE_VERBS + r"\b", re.IGNORECASE)),
    # "The Federal Reserve estimates", "the IMF projects", "NASA reported"
    ("an organisation's estimate or finding",
     re.compile(r"(?<![\w&.-])" + _ORGANISATION + r"\s+(?:\w+ly\s+)?(?:estimates|estimated|projects|projected|predicts"
                r"|predicted|forecasts|reports|reported|found|finds|warns|warned|recommends|recommended|says)\b")),
    # "it is widely reported that", "it is estimated that"
    ("an impersonal report of findings",
     re.compile(r"\bit\s+is\s+(?:\w+ly\s+)?(?:reported|believed|known|estimated|thought|established|accepted"
                r"|recognised|recognized|documented|argued)\s+that\b", re.IGNORECASE)),
    # "it has been shown", "has been demonstrated", "have been linked to"
    # "shown/found/proven" report a finding only with what was found: "has been shown to reduce", "... that";
    # "the recipe has been shown to friends" and "the keys have been found" report none.
    ("a passive report of findings",
     re.compile(r"\b(?:has|have|had)\s+been\s+(?:\w+ly\s+)?(?:(?:shown|demonstrated|proven|proved|found)"
                r"(?:\s+(?:in|by|across|among|with|for|at|on|over)(?:\s+[\w'’-]+){1,4}?|\s*,(?:\s*[\w'’-]+){1,3}\s*,)?"
                r"\s*,?\s+"
                r"(?:that\b|to\s+(?!" + _NOT_A_VERB + r"\b)(?![a-z]*[^su\W]s\b)[a-z]+)"
                r"|reported|linked|documented|observed|established)\b", re.IGNORECASE)),
    # "there is strong evidence that", "there is growing evidence of"
    ("evidence invoked without its source",
     re.compile(r"\bthere\s+(?:is|are|has\s+been)\s+(?:\w+\s+){0,2}?(?:evidence|consensus|data|studies|research)"
                r"\s+(?:that|of|to\s+suggest|showing|linking|suggesting)\b", re.IGNORECASE)),
    # "is associated with a higher risk of", "are linked to"
    ("an association stated as fact",
     re.compile(r"\b(?:is|are|was|were)\s+(?:\w+ly\s+)?(?:associated\s+with|linked\s+(?:to|with)|correlated\s+with"
                r"|tied\s+to)\s+(?:a\s+|an\s+)?(?:\w+\s+){0,2}?(?:risk|rates?|incidence|odds|likelihood|chance"
                r"|increase|decrease|reduction|rise|decline|mortality|death|deaths|higher|lower|greater|better|worse"
                r"|improved|poorer)\b", re.IGNORECASE)),
    # "31% less likely", "accounts for 40% of", "a 40% rise in", "10% below the national average"
    ("a statistic stated as fact",
     re.compile(r"\b\d+(?:\.\d+)?\s*(?:%|percent|per\s+cent)\s+(?:more|less|higher|lower)\s+(?:likely|risk|chance)"
                r"|\baccounts?\s+for\s+(?:\w+\s+){0,2}?\d+(?:\.\d+)?\s*(?:%|percent|per\s+cent)"
                r"|\ba\s+\d+(?:\.\d+)?\s*(?:%|percent|per\s+cent)\s+(?:rise|increase|fall|drop|decline|reduction|jump)\s+in"
                r"|\b\d+(?:\.\d+)?\s*(?:%|percent|per\s+cent)\s+(?:below|above)\s+the\s+(?:national|global|EU|US|average)",
                re.IGNORECASE)),
    ("a known effect stated as fact",
     re.compile(r"\b(?:is|are)\s+(?:well\s+)?(?:known|proven|documented)\s+to\b", re.IGNORECASE)),
    # "according to the FDA", "according to a 2021 report"
    ("an authority's position",
     re.compile(r"\b[Aa]ccording\s+to\s+(?:the\s+|a\s+|an\s+|recent\s+)?(?:[A-Z][\w.&-]*|\d{4}\s+\w+|"
                r"(?:recent\s+)?(?:study|survey|report|estimates|data|figures|statistics|experts))"
                r"|\b[Aa]ccording\s+to\s+(?:the\s+|a\s+|an\s+|one\s+|recent\s+|new\s+)?(?:[\w-]+\s+){0,2}?"
                r"(?:study|studies|survey|surveys|report|reports|poll|polls|estimates?|data|figures|statistics"
                r"|analysis|research|census|researchers|scientists|police|officials|authorities|manufacturer"
                r"|government|ministry|experts|economists|analysts)\b")),
    # "40% of patients", "one in five adults", "nearly half of users"
    ("a statistic about a population",
     re.compile(r"(?:\b\d+(?:\.\d+)?\s*(?:\\?%|percent|per\s+cent)|\b(?:one|two|three|four)\s+(?:in|out\s+of)"
                r"\s+(?:every\s+)?(?:two|three|four|five|six|seven|eight|nine|ten|\d+)"
                r"|\b(?:nearly|almost|over|more\s+than|about|roughly|around)\s+(?:half|a\s+third|a\s+quarter"
                r"|two-thirds|three-quarters)|(?<![\w,.])\d[\d,.]*\s+(?:million|billion))\s+(?:of\s+)?(?:all\s+|the\s+|the\s+world's\s+|us\s+|u\.s\.\s+)?"
                r"(?:[a-z-]+\s+)?" + POPULATIONS + r"\b", re.IGNORECASE)),
    # "a study published in the Journal of X found", "a 2020 survey by Gallup showed"
    ("a study described but not cited",
     re.compile(r"\b(?:a|one|another|the|recent|new|large|landmark)\s+(?:\w+\s+){0,3}?(?:study|survey|trial|"
                r"meta-analysis|review|report|analysis|poll|experiment|paper)\b[^.;]{0,120}?\b(?:found|finds|"
                r"showed|shows|reported|reports|concluded|concludes|revealed|reveals|suggests|suggested|"
                r"demonstrated|estimated|estimates)\b", re.IGNORECASE)),
)
# Sources that are the author's own work, not a claim about someone else's: "our data show", "this study found".
OWN_WORK_RE = re.compile(r"\b(?:our|this|the\s+present|the\s+current|the\s+pilot|these|my|we|here\s+we)\s+"
                         r"(?:[\w'’-]+\s+){0,2}?"
                         r"(?:study|studies|data|results?|findings|analysis|analyses|experiments?|survey|trial"
                         r"|review|paper|report|records|measurements|observations|benchmarks|estimates|figures"
                         r"|numbers|models?|simulations?|tests|logs|sales|interviews)\b", re.IGNORECASE)
# A pointer to the document's own figure or table: the sentence reports the author's own results.
OWN_FIGURE_RE = re.compile(r"\((?:see\s+)?(?:Fig(?:ure)?|Table|Supplementary)\.?\s*[A-Z]?\d", re.IGNORECASE)
# Any citation mark: [1], [1-3], ¹, ^1^, <sup>, (Smith, 2019), Smith (2019), \cite{..}, [@key], [^note], \footnote.
CITATION_MARK_RE = re.compile(
    r"\[\d{1,3}(?:\s*[-–,]\s*\d{1,3})*\]|[⁰¹²³⁴⁵⁶⁷⁸⁹]|\^\d+\^|<sup>|\[\^[^\]]+\]"
    r"|\\" + CITE_COMMAND + r"\*?\s*[\[{]|\\footnote"
    r"|\[[^\[\]]*@[\w:.#$%&+?<>~/-]+[^\[\]]*\]|(?<![\w.])-?@[A-Za-z_][\w:.#$%&+?<>~/-]*"
    r"|\([^()]*\b(?:1[5-9]\d\d|20\d\d)[a-z]?\b[^()]*\)"
    r"|(?<=[A-Za-z.,;)])\s?\(\d{1,3}(?:\s*[-–,]\s*\d{1,3})*\)(?=[.,;:]|\s*$)"
    r"|\bet\s+al\.?,?\s+(?:1[5-9]\d\d|20\d\d)|\b(?:doi:|https?://)"
)
# Quoted text: “...” or "...". Cues inside quotes belong to a title or someone else's words.
QUOTED_RE = re.compile(r"“[^”]*”|\"[^\"]*\"|‘[^’]{8,}’")

# --- KR505 cues ---------------------------------------------------------------------------------
QUOTE_MIN_WORDS = 4  # scare quotes and quoted titles of one to three words are not direct quotations
# A name starts a word and has at most six parts: unbounded, a long run of capitals would be scanned once
# from every letter (quadratic time).
_PERSON = (r"(?<![\w'’.-])(?:(?:Dr|Prof|Mr|Mrs|Ms|Sen|Rep|Gov|Gen|Sir|Dame)\.?\s+)?"
           r"[A-Z][\w'’.-]+(?:\s+(?:[A-Z][\w'’.-]+|de|van|von|al)){0,5}")
TITLES_RE = re.compile(r"\b(?:Dr|Prof|Professor|Director|Senator|Minister|President|CEO|Chief|Commissioner"
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
SOURCING_CUE = "a quotation with a sourcing verb"
QUOTE_CUES: tuple[tuple[str, re.Pattern[str], bool], ...] = (
    # (why, pattern, needs a title/role for the name) -- "Dr. Emily Chen, Clinical Pharmacist: “...”"
    ("a quotation introduced by a name and a colon",
     re.compile(r"(?P<who>" + _PERSON + r")(?:\s*,\s*[^:“\"]{2,60})?\s*:\s*" + _OPEN), False),
    ("a quotation attributed with “as … put it”",
     re.compile(r"\b[Aa]s\s+(?:the\s+[a-z]+\s+)?(?P<who>(?:the\s+)?" + _PERSON + r")(?:\s*,[^,“\"]{2,60},)?"
                r"\s+(?:(?:famously|once|memorably|later)\s+)?(?:put\s+it|puts\s+it|wrote|"
                r"writes|said|says|noted|observed|argued|explained)\b,?\s*:?\s*" + _OPEN), False),
    ("a quotation attributed with “according to”",
     re.compile(r"\b[Aa]ccording\s+to\s+(?P<who>(?:the\s+)?" + _PERSON + r")[^“\"]{0,60}?,\s*" + _OPEN), False),
    (SOURCING_CUE,
     re.compile(r"(?P<who>" + _PERSON + r")(?:\s*,[^,“\"]{2,80},)?\s+(?:(?:once|later|also|then|\w+ly)\s+)?"
                + SOURCING_VERBS + r"\b[^“\"]{0,40}?[,:]?\s*"
                + _OPEN + r"|[”\"],?\s*(?P<who2>" + _PERSON + r")(?:\s*,[^,“\"]{2,80},?)?\s+" + SOURCING_VERBS
                + r"\b|[”\"],?\s*" + SOURCING_VERBS + r"\s+(?:[a-z]+\s+)?(?P<who3>" + _PERSON + r")"
                + r"|[”\"],?\s*the\s+(?P<who4>(?:[A-Z][\w-]*\s+)*[a-z]*\s*(?:" + _ROLES + r"|[A-Z][\w-]*))\s+"
                + SOURCING_VERBS + r"\b"
                + r"|\b[Tt]he\s+(?P<who5>(?:[a-z-]+\s+)?" + _ROLES + r")\s+(?:\w+ly\s+)?" + SOURCING_VERBS
                + r"\b[^“\"]{0,40}?[,:]?\s*" + _OPEN),
     False),
    ("a quotation with “said” and a named source's title or role",
     re.compile(r"(?P<who>" + _PERSON + r")(?P<role>\s*,[^,“\"]{2,80},)?\s+" + DIALOGUE_VERBS + r"\b,?\s*:?\s*"
                + _OPEN + r"|[”\"],?\s*" + DIALOGUE_VERBS + r"\s+(?P<who3>" + _PERSON + r")"
                + r"(?P<role3>\s*,[^.“\"]{2,80})?"
                + r"|[”\"],?\s*(?P<who2>" + _PERSON + r")(?P<role2>\s*,[^,“\"]{2,80},?)?\s+" + DIALOGUE_VERBS + r"\b"),
     True),
)
# How a narrator tags dialogue: a manner adverb or gesture right after the verb ("stated flatly", "added with
# a smile", "explained, grinning"). Reporting does not describe how a source spoke.
MANNER_RE = re.compile(r"\s*,?\s*(?:(?!(?:early|only|recently|publicly|previously|widely)\b)\w+ly\b(?!\s*[,:]?\s*[“\"])"
                       r"|with\s+a\s+(?:smile|grin|laugh|shrug|sigh|wink|nod)|grinning|smiling|laughing|shrugging"
                       r"|sighing|nodding|winking)")
# A narrator's dialogue tag: “...,” she whispered / “...?” asked the owl. Reporting says "said" or "told";
# a text with FICTION_TAGS of these is a story, and its quotations are its characters' (KR505 stays quiet).
FICTION_TAG_RE = re.compile(r"[”\"]\s*,?\s*(?:(?:he|she|they|I|we|it)\s+(?:said|asked|whispered|shouted|replied"
                            r"|muttered|cried|called|answered|laughed|sighed|murmured|snapped|yelled|gasped)\b"
                            r"|(?:asked|whispered|shouted|replied|muttered|cried|answered|sighed|murmured|snapped"
                            r"|yelled|gasped)\b)")
FICTION_TAGS = 3  # one or two "she asked" happen in interviews; three make a story
# Words that open a sentence in capitals but are not a source ("The", "This", "He" ...).
NOT_SOURCES = frozenset({"The", "This", "That", "These", "Those", "It", "He", "She", "They", "We", "I", "You",
                         "His", "Her", "Their", "Our", "My", "A", "An", "One", "Someone", "Everyone", "Nobody",
                         "Title", "Note", "Example", "Warning", "Tip", "Q", "A:", "Answer", "Question", "Quote",
                         "Translation", "Motto", "Slogan", "Caption", "Label", "Output", "Input", "Error", "Usage"})

_ABBREVIATIONS = re.compile(r"\b(?:Dr|Prof|Mr|Mrs|Ms|St|Jr|Sr|vs|etc|e\.g|i\.e|al|cf|Fig|No|Vol|approx|Inc|Ltd|Co"
                            r"|U\.S|U\.K|Sen|Rep|Gov|Gen|pp|p|ca)\.$")
_HEADING_RE = re.compile(r"^\s{0,3}#{1,6}\s|^\s*\\(?:section|subsection|chapter|title|caption|label)\b")
_LIST_RE = re.compile(r"^\s{0,3}(?:[-*+•]|\d+[.)])\s+")


@dataclass(frozen=True)
class Sentence:
    file: str
    line: int
    text: str


def paragraphs(body: Sequence[TextLine], one_per_line: bool = False) -> list[list[TextLine]]:
    """Body lines grouped into paragraphs: a blank line, a heading, a list item or code ends one.

    one_per_line: each line is a paragraph already (a .docx, whose lines are its paragraphs).
    """
    code = code_lines(body)
    groups: list[list[TextLine]] = []
    current: list[TextLine] = []
    for line in body:
        if line.line in code or _HEADING_RE.match(line.text) or not line.text.strip():
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


def sentences(paragraph: Sequence[TextLine]) -> list[Sentence]:
    """The paragraph split into sentences, each with the line it starts on."""
    found: list[Sentence] = []
    buffer = ""
    start: tuple[str, int] | None = None
    for line in paragraph:
        text = prose(line.text).strip()
        tokens = re.split(r"(?<=[.!?])(?=[”\"’)]?\s+[“\"‘(]?[A-Z0-9\\])", text)
        for position, token in enumerate(tokens):
            if start is None:
                start = (line.file, line.line)
            buffer = (buffer + " " + token.strip()).strip() if buffer else token.strip()
            ends_line_sentence = position < len(tokens) - 1 or re.search(r"[.!?][”\"’)]*$", token)
            if ends_line_sentence and not _ABBREVIATIONS.search(buffer.rstrip("”\"’)")):
                found.append(Sentence(start[0], start[1], buffer))
                buffer, start = "", None
    if buffer and start is not None:
        found.append(Sentence(start[0], start[1], buffer))
    return found


def has_citation(text: str) -> bool:
    return CITATION_MARK_RE.search(text) is not None


def claim_cue(sentence: str) -> str | None:
    """Why the sentence reports evidence or an authority's position, or None."""
    unquoted = QUOTED_RE.sub(" ", sentence)
    if unquoted.rstrip().endswith("?") or OWN_FIGURE_RE.search(unquoted):
        return None
    for why, pattern in CLAIM_CUES:
        for match in pattern.finditer(unquoted):
            before = unquoted[max(0, match.start() - 40) : match.end()]
            if OWN_WORK_RE.search(before) and "according" not in match.group(0).lower():
                continue
            return why
    return None


def quote_cue(sentence: str) -> tuple[str, str] | None:
    """(why, who) when the sentence holds a direct quotation attributed to a named source, else None."""
    quotes = [q for q in QUOTED_RE.findall(sentence) if len(q.strip("“”\"‘’").split()) >= QUOTE_MIN_WORDS]
    if not quotes:
        return None
    for why, pattern, needs_role in QUOTE_CUES:
        for match in pattern.finditer(sentence):
            groups = match.groupdict()
            who = next((groups[g] for g in ("who", "who2", "who3", "who4", "who5") if groups.get(g)), None)
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
                if not TITLES_RE.search(who + (role or "")):
                    continue
            elif (why == SOURCING_CUE and len(who.split()) < 2 and not re.fullmatch(r"[A-Z][A-Z&]+", who)
                  and not groups.get("who4") and not groups.get("who5")):
                continue  # a bare first name or surname with "explained": a character as often as a source
            return why, who.strip()
    return None


def is_fiction(all_sentences: Sequence[Sentence]) -> bool:
    """True when the text tells a story: FICTION_TAGS or more narrator's dialogue tags ("she whispered")."""
    return sum(len(FICTION_TAG_RE.findall(s.text)) for s in all_sentences) >= FICTION_TAGS


def _findings_for_body(doc: Document) -> Iterator[Finding]:
    grouped = [sentences(paragraph) for paragraph in paragraphs(doc.body, one_per_line=doc.format == "docx")]
    fiction = is_fiction([s for found in grouped for s in found])
    for found in grouped:
        if not found:
            continue
        closing_cited = has_citation(found[-1].text)
        for sentence in found:
            if closing_cited or has_citation(sentence.text):
                continue
            location = Location(sentence.file, sentence.line)
            quote = None if fiction else quote_cue(sentence.text)
            if quote is not None:
                why, who = quote
                yield Finding(UNSOURCED_QUOTE, location,
                              f"quotation attributed to {who} has no citation ({why})",
                              "cite where the quotation was published, or remove it")
                continue
            cue = claim_cue(sentence.text)
            if cue is not None:
                yield Finding(UNSUPPORTED_CLAIM, location,
                              f"sentence reports evidence with no citation ({cue}): {_short(sentence.text)}",
                              "cite the source, or rewrite it as your own hedged view")


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _citation_findings(doc: Document) -> Iterator[Finding]:
    references = doc.references
    with_authors = any(r.authors and r.year for r in references)
    for citation in doc.citations:
        if citation.resolved_key is not None:
            continue
        if citation.style == "numeric" and not references:
            continue  # a bracketed number in a draft without a list is not known to be a citation
        if citation.style == "author-year":
            if not with_authors:
                continue
            likely = most_likely(citation, references)
            if likely is not None:
                yield Finding(CITATION_MISMATCH, citation.location,
                              f"{citation.text} most likely means {likely.key} ({_describe(likely)}), which "
                              f"disagrees with it", f"cite it as {_describe(likely)}, or correct the entry")
                continue
            what = f"no entry by {citation.target.rsplit(' ', 1)[0]} from {citation.target.rsplit(' ', 1)[1]}"
        elif citation.style == "numeric":
            what = f"the reference list has no item {citation.target} (it has {len(references)})"
        else:
            what = f"no entry has the key {citation.target!r}"
        yield Finding(UNDEFINED_CITATION, citation.location, f"citation {citation.text} matches no entry: {what}",
                      _undefined_suggestion(citation, references))


def _undefined_suggestion(citation: Citation, references: Sequence[Reference]) -> str | None:
    if citation.style == "key":
        close = difflib.get_close_matches(citation.target, [r.key for r in references], n=1, cutoff=0.75)
        if close:
            return f"did you mean {close[0]!r}?"
        return "add the entry to the bibliography, or correct the key"
    return "add the missing entry, or correct the citation"


def _describe(ref: Reference) -> str:
    surname = ref.authors[0].family if ref.authors else ref.key
    return f"{surname}{' et al.' if len(ref.authors) > 2 or ref.et_al else ''}, {ref.year or 'n.d.'}"


def most_likely(citation: Citation, references: Sequence[Reference]) -> Reference | None:
    """The entry an unresolved author-year citation most likely means, or None."""
    surname, year_text = citation.target.rsplit(" ", 1)
    year = int(year_text[:4])
    best: tuple[int, Reference] | None = None
    for ref in candidates(citation, references):
        if ref.year and ref.year[:4].isdigit() and abs(int(ref.year[:4]) - year) <= YEAR_SLIP:
            distance = abs(int(ref.year[:4]) - year)
            if best is None or distance < best[0]:
                best = (distance, ref)
    if best is not None:
        return best[1]
    for ref in references:
        if ref.authors and ref.year and ref.year[:4] == year_text[:4]:
            ratio = difflib.SequenceMatcher(None, ref.authors[0].family.lower(), surname.lower()).ratio()
            if ratio >= SURNAME_SIMILARITY:
                return ref
    return None


def _uncited_findings(doc: Document) -> Iterator[Finding]:
    if doc.meta.get("nocite-all") == "1" or not doc.references:
        return
    cited = {c.resolved_key for c in doc.citations if c.resolved_key is not None}
    # An entry a mismatched citation most likely means (KR503) is cited, only wrongly: one finding is enough.
    for citation in doc.citations:
        if citation.resolved_key is None and citation.style == "author-year":
            likely = most_likely(citation, doc.references)
            if likely is not None:
                cited.add(likely.key)
    if not doc.citations:
        heading = doc.meta.get("references-heading-line")
        first = doc.references[0].location
        if heading and heading.isdigit():
            location = Location(doc.path, int(heading))
        else:
            location = Location(first.file, first.line)
        count = len(doc.references)
        message = (f"the text cites none of the {count} entries of the reference list" if count != 1
                   else "the text does not cite the only entry of the reference list")
        yield Finding(UNCITED_REFERENCE, location, message,
                      "cite each entry where it supports the text, or remove the list")
        return
    for ref in doc.references:
        if ref.key not in cited:
            yield Finding(UNCITED_REFERENCE, ref.located(), f"entry {ref.key} is never cited in the text",
                          "cite it where it supports the text, or remove it")


def judge_document(doc: Document, evidence: Mapping[str, Evidence], ctx: Context) -> Iterator[Finding]:
    if doc.citations or (doc.references and doc.body):
        yield from _citation_findings(doc)
        yield from _uncited_findings(doc)
    if doc.body:
        yield from _findings_for_body(doc)


# --- Placeholder suggestions (online): search Crossref with the sentence around a placeholder ---------
# Words that say "a study exists" but not what it is about: dropped from the query.
QUERY_NOISE_RE = re.compile(
    r"\b(?:a|an|the|one|recent|new|study|studies|research|published|in|found|finds|showed|shows|that|has|have"
    r"|been|report|reported|according|to|suggests?|evidence|trial|survey|by|of|and|it|is|was|were|for|from"
    r"|with|on|at|as|this|these|those|that|there|here|its|they|their|them|we|our|you|your|can|could|should"
    r"|would|may|might|will|also|more|most|very|widely|come|comes|see|check|numbers|figures|data|source"
    r"|sources|needed|link|statement|against|about|some|many|much)\b",
    re.IGNORECASE,
)
JOURNAL_RE = re.compile(r"\b(?:Journal\s+of(?:\s+(?:the\s+)?[A-Z][\w&-]*)+|[A-Z][\w-]*(?:\s+[A-Z][\w-]*)*\s+Journal"
                        r"|Nature|Science|The\s+Lancet|Lancet|PLOS\s+ONE|JAMA|BMJ|Cell|PNAS)\b")
MAX_SUGGESTIONS = 3  # the issue: "up to three candidate works"
MIN_QUERY_WORDS = 3  # a sentence with fewer content words says too little to search for


def placeholder_id(file: str, line: int) -> str:
    """Evidence key of the Crossref search for the placeholder(s) on a body line."""
    return f"placeholder:{file}:{line}"


# The kinds of placeholder (kratomref.rules.placeholders) that stand where a source should be.
SEARCHED_KINDS = frozenset({"citation", "link"})


def placeholder_spans(text: str, kinds: frozenset[str] | None = SEARCHED_KINDS) -> list[tuple[int, int]]:
    """Where text holds a placeholder for a source: "(reference needed)", "[?]", "[Link to FDA statement]"...

    kinds=None: every kind of placeholder ("XX%", "TODO" too). The placeholder rules (KR101/KR102) own
    the detector, which takes a marker that asks for a source ("TODO: cite", "[TODO add source]") for a
    citation placeholder.
    """
    return [(hit.start, hit.end) for hit in find_placeholders(text) if kinds is None or hit.kind in kinds]


@dataclass(frozen=True)
class PlaceholderSearch:
    """What to search Crossref for, for the sentence around a placeholder."""

    query: str  # query.bibliographic: the sentence's content words
    container: str | None  # query.container-title: the journal the sentence names, if any


def placeholder_search(sentence: str) -> PlaceholderSearch | None:
    """The search a placeholder sentence calls for, or None when it says too little about the work."""
    text = sentence
    for start, end in reversed(placeholder_spans(sentence, kinds=None)):
        text = text[:start] + " " * (end - start) + text[end:]
    journal = JOURNAL_RE.search(text)
    if journal is not None:
        text = text.replace(journal.group(0), " ")
    words = re.findall(r"[\w-]+", QUERY_NOISE_RE.sub(" ", text))
    words = [w for w in words if not w.isdigit() or len(w) == 4]  # keep years, drop "(1)" and the like
    if len(words) < MIN_QUERY_WORDS:
        return None
    return PlaceholderSearch(" ".join(words), journal.group(0) if journal else None)


def _placeholder_searches(doc: Document) -> dict[str, PlaceholderSearch]:
    """Placeholder id -> search: keyed on each line that carries a placeholder (where KR101/KR102 report
    it), and on the first line of its sentence."""
    found: dict[str, PlaceholderSearch] = {}
    for paragraph in paragraphs(doc.body, one_per_line=doc.format == "docx"):
        in_paragraph = sentences(paragraph)
        for line in paragraph:
            text = prose(line.text)
            for start, end in placeholder_spans(text):
                marker = text[start:end].strip()
                # the latest sentence begun by this line that holds the marker is the one it sits in
                owner = next((s for s in reversed(in_paragraph) if s.line <= line.line and marker in s.text), None)
                search = placeholder_search(owner.text) if owner is not None else None
                if owner is None or search is None:
                    continue
                found.setdefault(placeholder_id(line.file, line.line), search)
                found.setdefault(placeholder_id(owner.file, owner.line), search)
    return found


def placeholder_queries(doc: Document) -> dict[str, str]:
    """Placeholder id -> the Crossref query.bibliographic made of its sentence's content words."""
    return {key: search.query for key, search in _placeholder_searches(doc).items()}


def placeholder_container_titles(doc: Document) -> dict[str, str]:
    """Placeholder id -> the journal its sentence names (Crossref query.container-title), where it names one."""
    return {key: search.container for key, search in _placeholder_searches(doc).items() if search.container}


def _candidate(work: Mapping[str, object]) -> str:
    """One candidate work: first author (et al.), year, title, journal, DOI."""
    def first(value: object) -> str:
        if isinstance(value, list):
            return str(value[0]) if value else ""
        return str(value) if value else ""

    authors = work.get("author")
    people = [a for a in authors if isinstance(a, dict)] if isinstance(authors, list) else []
    name = str(people[0].get("family") or people[0].get("name") or "") if people else ""
    if name and len(people) > 1:
        name += " et al."
    issued = work.get("issued")
    parts = issued.get("date-parts") if isinstance(issued, dict) else None
    year = parts[0][0] if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0] else None
    head = f"{name} ({year})" if name and year else name or (f"({year})" if year else "")
    title = first(work.get("title"))
    pieces = [p for p in (head, f"“{title}”" if title else "", first(work.get("container-title"))) if p]
    doi = str(work.get("DOI") or "")
    return ", ".join(pieces) + (f", https://doi.org/{doi}" if doi else "")


def placeholder_suggestion(resolution: SearchResolution) -> str | None:
    """The suggestion text for a placeholder: up to three candidate works to verify, best first."""
    if resolution.status is not Lookup.FOUND or not resolution.candidates:
        return None
    listed = "; ".join(f"{n}) {_candidate(work)}"
                       for n, work in enumerate(resolution.candidates[:MAX_SUGGESTIONS], start=1))
    return ("candidate works to verify before citing (Crossref search on this sentence, best first): "
            + listed)


def placeholder_candidates(
    doc: Document, line: int, evidence: Mapping[str, Evidence], file: str | None = None
) -> str | None:
    """The suggestion for a KR101/KR102 placeholder finding at (file, line) of doc, from the evidence the
    check gathered (a Crossref search keyed placeholder:{file}:{line}); None offline or without candidates.

    file defaults to doc.path; give it for a placeholder in a LaTeX \\input file.
    """
    found = evidence.get(placeholder_id(file or doc.path, line))
    if found is None or found.search is None:
        return None
    return placeholder_suggestion(found.search)
