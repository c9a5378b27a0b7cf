//! Labelled user questions for the 14 intents of the original service.
//!
//! Each intent has many templates written the way Indian users type: English, Hinglish, with
//! amounts in ₹/Rs/INR/lakh/crore/k, varied openers and closers, casing and typos. Vocabulary
//! overlaps between intents on purpose (loans appear in affordability, debt and loan questions)
//! so that a classifier has to learn more than keywords.

use crate::surface;
use nivesh_core::Utterance;
use nivesh_core::gazetteer::Gazetteer;
use nivesh_core::rng::Rng;
use std::collections::HashSet;

pub const INTENTS: [&str; 14] = [
    "affordability_check",
    "goal_planning",
    "spending_analysis",
    "investment_advice",
    "debt_management",
    "tax_planning",
    "emergency_fund",
    "retirement_planning",
    "insurance_advice",
    "transaction_query",
    "budget_creation",
    "savings_strategy",
    "loan_inquiry",
    "general_question",
];

fn templates(intent: &str) -> &'static [&'static str] {
    match intent {
        "affordability_check" => &[
            "can I afford a {item} for {amt}",
            "is it ok to buy a {item} worth {amt} right now",
            "should i buy the {item} or wait, it costs {amt}",
            "kya main {amt} ka {item} le sakta hoon",
            "mera budget allow karega {item} {amt} ka?",
            "will buying a {amt} {item} hurt my finances",
            "I earn {amt} a month, can I manage a {item}",
            "can i take a {loan} EMI of {amt} per month and still be fine",
            "is {amt} too much to spend on a {item}",
            "afford kar paunga kya {item}? price is {amt}",
            "my salary is {amt}, is a {item} within reach",
            "thinking of getting a {item} on EMI, can my budget handle it",
            "would a {item} purchase of {amt} break my monthly budget",
            "how much {item} can i afford with {amt} income",
            "is buying a {item} this month a bad idea given my spends",
            "do i have enough balance to get a {item}",
        ],
        "goal_planning" => &[
            "i want to save {amt} for {goal} {when}",
            "help me plan for {goal}",
            "how much should i set aside monthly to reach {amt} {when}",
            "plan banao {goal} ke liye",
            "mujhe {goal} ke liye {amt} chahiye {when}",
            "what is the best way to reach my {goal} goal",
            "create a goal of {amt} for {goal}",
            "track my progress towards {goal}",
            "am i on track for my {goal} target of {amt}",
            "how many months to collect {amt} for {goal} if i save {amt2} monthly",
            "set a target: {goal}, {amt}, {when}",
            "i have a dream of {goal}, how do i get there",
            "{goal} ke liye kitna paisa bachana padega har mahine",
            "break down my {goal} goal into monthly steps",
        ],
        "spending_analysis" => &[
            "how much did i spend on {cat} {when_past}",
            "show my {cat} expenses",
            "where is my money going",
            "why are my expenses so high {when_past}",
            "mera kharcha {cat} pe kitna hua",
            "analyse my spending pattern",
            "which category do i spend the most on",
            "compare my {cat} spend this month vs last month",
            "top 5 expenses {when_past}",
            "kitna kharch kiya {when_past}",
            "am i spending too much on {cat}",
            "give me a breakdown of my monthly expenses",
            "how much have i spent at {merchant} overall",
            "my {cat} bills seem high, what's going on",
            "spending summary for {when_past} please",
            "did my {cat} spending go up recently",
        ],
        "investment_advice" => &[
            "where should i invest {amt}",
            "is {inv} a good option for me",
            "should i put my savings in {inv} or {inv2}",
            "best {inv} to invest in right now",
            "{amt} kahan invest karun",
            "how to start investing with {amt} per month",
            "is it a good time to invest in {inv}",
            "what returns can i expect from {inv}",
            "paisa kahan lagaun for good returns",
            "suggest a portfolio for a beginner with {amt}",
            "should i start a SIP of {amt} in {inv}",
            "diversify my investments between {inv} and {inv2}?",
            "how risky is {inv} for long term wealth",
            "i have {amt} lying idle, how do i grow it",
            "lumpsum or SIP for {inv}",
        ],
        "debt_management" => &[
            "how do i pay off my {loan} faster",
            "i have multiple loans, which one to close first",
            "my credit card debt is {amt}, help",
            "should i prepay my {loan} or invest",
            "mera karz kaise khatam karun",
            "EMIs are eating my salary, what do i do",
            "consolidate my debts into one loan?",
            "snowball or avalanche for my {loan} and credit card",
            "i missed my {loan} EMI, what now",
            "how to get out of debt of {amt}",
            "loan chukane ka best tarika kya hai",
            "should i use my bonus of {amt} to clear the {loan}",
            "my outstanding on credit card keeps growing",
            "is it smart to foreclose my {loan}",
            "reduce my debt burden, i owe {amt}",
        ],
        "tax_planning" => &[
            "how can i save tax under {tax}",
            "which tax regime is better for me, old or new",
            "how much tax will i pay on {amt} salary",
            "tax bachane ke tarike batao",
            "is {inv} eligible for tax deduction",
            "when is the last date to file ITR",
            "how to claim {tax} deduction",
            "tax on capital gains from {inv}",
            "i earn {amt} per year, what is my tax liability",
            "should i switch to the new tax regime",
            "TDS cut from my salary is too high, why",
            "best tax saving investments this year",
            "kitna tax lagega mujhe",
            "can rent paid reduce my taxes via {tax}",
        ],
        "emergency_fund" => &[
            "how big should my emergency fund be",
            "i have {amt} saved for emergencies, is that enough",
            "where to keep my emergency fund",
            "emergency ke liye kitna paisa rakhna chahiye",
            "build an emergency corpus of {amt}",
            "should my emergency fund be in FD or savings account",
            "how many months of expenses should i keep aside",
            "i lost my job, how long will my savings last",
            "rainy day fund kaise banaye",
            "is {amt} enough as a safety net for my family",
            "start an emergency fund with my small salary",
            "can i use my emergency fund to pay the {loan}",
        ],
        "retirement_planning" => &[
            "how much do i need to retire at {age}",
            "is NPS good for retirement",
            "retirement ke liye kitna save karna hai",
            "can i retire early with {amt}",
            "plan my retirement corpus",
            "will my PF be enough after retirement",
            "monthly pension of {amt} ke liye kitna invest karun",
            "i am {age}, am i late to start retirement savings",
            "best retirement plans in india",
            "how to calculate my retirement number",
            "FIRE at {age} possible with my current savings?",
            "what should my retirement portfolio look like at {age}",
        ],
        "insurance_advice" => &[
            "do i need {ins}",
            "how much {ins} cover should i take",
            "which {ins} is best for my family",
            "is {ins} worth it",
            "mujhe kaunsa insurance lena chahiye",
            "term plan vs ULIP, which is better",
            "my employer gives health cover, do i need separate {ins}",
            "premium of {amt} for {ins}, is that fair",
            "should i buy {ins} for my parents",
            "how to claim {ins} after hospitalisation",
            "insurance ka premium kitna hona chahiye",
            "is a cover of {amt} enough for {ins}",
        ],
        "transaction_query" => &[
            "show my last {n} transactions",
            "what was the {amt} debit {when_past}",
            "did i pay {merchant} {when_past}",
            "find my {merchant} payment",
            "mera last payment kab hua tha",
            "list all UPI transactions {when_past}",
            "why was {amt} deducted from my account",
            "when did i last pay the electricity bill",
            "show transactions above {amt}",
            "is the {merchant} refund credited yet",
            "check if my salary got credited",
            "what is this charge from {merchant}",
            "transaction history for {when_past}",
            "kitne transactions hue {when_past}",
        ],
        "budget_creation" => &[
            "help me make a monthly budget",
            "create a budget for {amt} salary",
            "set a limit of {amt} on {cat}",
            "budget banao mere liye",
            "50/30/20 rule applies to me?",
            "how should i split my income of {amt}",
            "plan my expenses for next month",
            "i want to cap my {cat} spend at {amt}",
            "make a budget that leaves room for savings",
            "ghar ka budget kaise banaye",
            "allocate my salary across rent, food and savings",
            "set up a budget with {amt} for {cat}",
            "what is a realistic budget for a family of four in a metro",
        ],
        "savings_strategy" => &[
            "how can i save more money",
            "tips to save {amt} every month",
            "paise kaise bachaye",
            "i can't seem to save anything, help",
            "best way to increase my savings rate",
            "should i keep savings in FD or {inv}",
            "how to cut down on {cat} to save money",
            "bachat kaise badhaye",
            "save money on {cat} expenses",
            "automate my savings every month",
            "is saving {pct} percent of my salary enough",
            "smart ways to save on daily expenses",
            "i want to save more from my salary of {amt}",
            "where can i park savings for better interest than savings account",
        ],
        "loan_inquiry" => &[
            "what is the interest rate on a {loan}",
            "am i eligible for a {loan} of {amt}",
            "how much {loan} can i get on {amt} salary",
            "EMI for {amt} {loan} for {years} years",
            "loan kaise milega",
            "which bank gives the cheapest {loan}",
            "documents needed for a {loan}",
            "can i get a {loan} with a low credit score",
            "{loan} ka interest kitna hai {bank} mein",
            "processing fee for {loan} at {bank}",
            "compare {loan} offers from {bank} and {bank2}",
            "pre-approved {loan} offer, should i take it",
            "how long does {loan} approval take",
            "{amt} ka loan chahiye",
        ],
        "general_question" => &[
            "what is a mutual fund",
            "explain CIBIL score",
            "what does APR mean",
            "hello",
            "who are you",
            "what can you do",
            "what is inflation",
            "difference between FD and RD",
            "thanks for the help",
            "how does UPI work",
            "what is compound interest",
            "is the market open today",
            "tell me a finance fact",
            "what is the repo rate",
            "what's the meaning of net worth",
            "good morning",
        ],
        _ => &[],
    }
}

const ITEMS: &[&str] = &[
    "phone",
    "iPhone",
    "laptop",
    "bike",
    "car",
    "scooty",
    "flat",
    "house",
    "TV",
    "fridge",
    "washing machine",
    "Goa trip",
    "international vacation",
    "wedding",
    "gold necklace",
    "MacBook",
    "AC",
    "sofa set",
];
const GOALS: &[&str] = &[
    "buying a house",
    "my child's education",
    "a Europe trip",
    "my wedding",
    "a new car",
    "higher studies abroad",
    "home down payment",
    "my daughter's marriage",
    "starting a business",
    "a world tour",
    "early retirement",
];
const WHEN_FUTURE: &[&str] = &[
    "in 2 years",
    "by 2030",
    "in 6 months",
    "within 5 saal",
    "by next Diwali",
    "in 3 years",
    "before I turn 40",
    "by december",
];
const WHEN_PAST: &[&str] = &[
    "last month",
    "this month",
    "last week",
    "in the last 3 months",
    "this year",
    "since diwali",
    "pichle mahine",
    "yesterday",
];
const LOANS: &[&str] = &[
    "home loan",
    "personal loan",
    "car loan",
    "education loan",
    "gold loan",
    "two wheeler loan",
    "loan against property",
];
const INVESTMENTS: &[&str] = &[
    "mutual funds",
    "index funds",
    "stocks",
    "FD",
    "PPF",
    "NPS",
    "gold",
    "ELSS",
    "crypto",
    "REITs",
    "sovereign gold bonds",
    "debt funds",
    "small cap funds",
    "real estate",
];
const INSURANCE: &[&str] = &[
    "term insurance",
    "health insurance",
    "car insurance",
    "life insurance",
    "ULIP",
    "critical illness cover",
    "travel insurance",
];
const TAX: &[&str] = &["80C", "80D", "HRA", "section 24", "80CCD(1B)", "LTA", "80G", "80TTA"];
const BANKS: &[&str] = &["SBI", "HDFC", "ICICI", "Axis", "Kotak", "Bajaj Finance", "PNB", "Bank of Baroda"];
/// Context that people add before the question; shared by every intent, so it carries no label.
const CONTEXTS: &[&str] = &[
    "I just got a raise, ",
    "my wife and I both work, ",
    "I'm 28 and live in Pune, ",
    "salary aayi hai abhi, ",
    "after paying rent this month ",
    "I have {amt} in my savings account and ",
    "my parents depend on me so ",
    "with inflation so high ",
    "I use {merchant} a lot, ",
    "since I moved to Bangalore ",
    "as a freelancer with irregular income ",
    "my CIBIL score is 720, ",
    "I have a home loan already and ",
    "Diwali is coming so ",
];

const OPENERS: &[&str] = &[
    "",
    "",
    "",
    "",
    "hey ",
    "hi, ",
    "pls tell me ",
    "quick question: ",
    "can you help - ",
    "namaste, ",
    "bhai ",
    "yaar ",
    "i need advice, ",
    "hello nivesh, ",
    "so ",
    "ok ",
];
const CLOSERS: &[&str] = &[
    "",
    "",
    "",
    "",
    "?",
    "?",
    " pls",
    " please",
    " thanks",
    " asap",
    " kya?",
    " batao",
    " ??",
    " 🙏",
    " right now",
    " btw",
];

fn fill(rng: &mut Rng, template: &str, gazetteer: &Gazetteer) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else { break };
        let slot = &rest[open + 1..open + close];
        let pick = |rng: &mut Rng, list: &[&str]| rng.choose(list).copied().unwrap_or("").to_string();
        let value = match slot {
            "amt" | "amt2" => surface::money(rng).0,
            "item" => pick(rng, ITEMS),
            "goal" => pick(rng, GOALS),
            "when" => pick(rng, WHEN_FUTURE),
            "when_past" => pick(rng, WHEN_PAST),
            "loan" => pick(rng, LOANS),
            "inv" | "inv2" => pick(rng, INVESTMENTS),
            "ins" => pick(rng, INSURANCE),
            "tax" => pick(rng, TAX),
            "bank" | "bank2" => pick(rng, BANKS),
            "age" => rng.range(35, 66).to_string(),
            "years" => rng.range(2, 31).to_string(),
            "pct" => (rng.range(2, 9) * 5).to_string(),
            "n" => rng.range(3, 21).to_string(),
            "cat" => rng
                .choose(&gazetteer.categories)
                .and_then(|c| rng.choose(&c.aliases).cloned())
                .unwrap_or_else(|| "food".into()),
            "merchant" => rng.choose(&gazetteer.merchants).map(|m| m.canonical.clone()).unwrap_or_default(),
            other => format!("{{{other}}}"),
        };
        out.push_str(&value);
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

/// `per_intent` distinct utterances for each intent, deterministic for `rng`'s seed.
pub fn generate(rng: &mut Rng, per_intent: usize, gazetteer: &Gazetteer) -> Vec<Utterance> {
    let mut seen_text: HashSet<String> = HashSet::new();
    let mut out = Vec::new();
    for intent in INTENTS {
        let list = templates(intent);
        let mut mine = Vec::new();
        let mut attempts = 0;
        while mine.len() < per_intent && attempts < per_intent * 200 {
            attempts += 1;
            let Some(template) = rng.choose(list) else { break };
            let mut text = fill(rng, template, gazetteer);
            if rng.bernoulli(0.3) {
                let context = rng.choose(CONTEXTS).copied().unwrap_or("");
                text = format!("{}{text}", fill(rng, context, gazetteer));
            }
            if rng.bernoulli(0.1) {
                // people drop words when typing fast
                let words: Vec<&str> = text.split(' ').collect();
                if words.len() > 4 {
                    let drop = rng.range(1, words.len());
                    text = words
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| *i != drop)
                        .map(|(_, w)| *w)
                        .collect::<Vec<_>>()
                        .join(" ");
                }
            }
            let opener = rng.choose(OPENERS).copied().unwrap_or("");
            let closer = if text.ends_with('?') { "" } else { rng.choose(CLOSERS).copied().unwrap_or("") };
            text = format!("{opener}{text}{closer}");
            match rng.range(0, 10) {
                0..=4 => {}
                5..=7 => {
                    let mut c = text.chars();
                    text = c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default();
                }
                8 => text = text.to_lowercase(),
                _ => text = text.to_uppercase(),
            }
            if rng.bernoulli(0.15) {
                text = surface::typo(rng, &text);
            }
            let key = text.to_lowercase();
            if seen_text.insert(key) {
                mine.push(text);
            }
        }
        out.extend(mine.into_iter().map(|text| Utterance { text, intent: intent.to_string() }));
    }
    rng.shuffle(&mut out);
    out
}
