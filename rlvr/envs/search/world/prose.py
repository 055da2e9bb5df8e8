"""Sentence templates: several phrasings per fact, so that a retriever cannot key on one fixed wording.

Each template is a ``str.format_map`` pattern over the fields the renderer fills in for one entity.
Linked entities always appear under their exact title (questions name them that way, and a multi-hop
chain needs the next entity's title in the passage that states the link); the subject itself may be
shortened to a surname or a pronoun, as encyclopedias do.
"""

from __future__ import annotations

# People ------------------------------------------------------------------------------------------

PERSON_LEAD_DEAD = (
    "{name} ({birth} – {death}) was {a_occupation} from {citizenship}.",
    "{name} ({birth} – {death}) was {a_occupation} and a citizen of {citizenship}.",
    "{name} ({birth} – {death}) was {a_occupation} who held the citizenship of {citizenship}.",
)
PERSON_LEAD_ALIVE = (
    "{name} (born {birth}) is {a_occupation} from {citizenship}.",
    "{name} (born {birth}) is {a_occupation} and a citizen of {citizenship}.",
    "{name} (born {birth}) is {a_occupation} who holds the citizenship of {citizenship}.",
)
PERSON_BIRTH_PARENTS = (
    "{Short} was born on {birth_us}, in {birth_city}, {birth_country}, the {child} of {father} and {mother}.",
    "Born in {birth_city} on {birth_us}, {short} was the {child} of {father} and {mother}.",
    "{Short} was born in {birth_city}, a city in {birth_country}, on {birth_us}; {his} parents were {father} "
    "and {mother}.",
)
PERSON_BIRTH = (
    "{Short} was born on {birth_us}, in {birth_city}, {birth_country}.",
    "Born in {birth_city} on {birth_us}, {short} grew up in modest circumstances.",
    "{Short} was born in {birth_city}, a city in {birth_country}, on {birth_us}.",
)
PERSON_FATHER = (
    "{His} father, {father}, was {a_father_occupation} born in {father_city} in {father_year}.",
    "{father}, {his} father, had been born in {father_city} in {father_year} and worked as "
    "{a_father_occupation}.",
)
PERSON_SIBLING = (
    "{His} {relative} {sibling} was born in {sibling_year}.",
    "{sibling}, {his} {relative}, was born in {sibling_year} in {sibling_city}.",
)
PERSON_NAMESAKE = (
    "{Short} should not be confused with {namesake}, {a_namesake_occupation} born in {namesake_year}.",
    "Not to be confused with {namesake} (born {namesake_year}), {a_namesake_occupation}.",
)
PERSON_EARLY = (
    "{He} spent {his} childhood in {birth_city}, where {his} family had lived for generations.",
    "As a child {he} showed an early talent for drawing and music.",
    "{His} family moved several times during {his} youth.",
    "{He} attended local schools and was remembered by {his} teachers as a quiet, stubborn pupil.",
    "{He} learned to read from an older neighbour and read everything {he} could find.",
    "Little is known of {his} early years beyond a few letters.",
)
PERSON_SCHOOL = (
    "{Short} studied at {alma_mater}.",
    "{He} was educated at {alma_mater}, which had been founded in {alma_year}.",
    "After finishing school, {short} enrolled at {alma_mater}.",
    "{Short} studied at {alma_mater} in {alma_city}.",
)
PERSON_EMPLOYER = (
    "{He} worked for {employer}, {a_industry} company based in {employer_city}.",
    "{He} spent years at {employer}, {a_industry} firm founded in {employer_year}.",
    "{Short} joined {employer} and spent much of {his} career there.",
    "For many years {short} was employed by {employer}.",
)
PERSON_FOUNDED = (
    "In {year}, {he} founded {company}.",
    "{He} founded {company} in {year}.",
)
PERSON_BAND = (
    "{Short} {was} a founding member of {band}, formed in {band_city} in {band_year}.",
    "{He} {was} a member of {band}, a band formed in {band_city} in {band_year}.",
)
PERSON_BOOKS = ("{His} books include {works}.", "{Short} wrote {works}.")
PERSON_FILMS = ("{His} films include {works}.", "{Short} directed {works}.")
PERSON_MAYOR = ("{Short} is the current mayor of {city}.", "{He} serves as mayor of {city}.")
PERSON_HEAD = (
    "{Short} is the head of state of {country}.",
    "{He} currently serves as head of state of {country}.",
)
PERSON_CEO = (
    "{He} is the chief executive of {company}.",
    "{Short} currently leads {company} as chief executive.",
)
PERSON_ASCENT = (
    "In {year}, {he} made the first ascent of {mountain}.",
    "{He} was the first to reach the summit of {mountain}, in {year}.",
)
PERSON_SPOUSE = (
    "{Short} married {spouse}.",
    "{He} married {spouse}, who was born in {spouse_city}.",
    "{His} spouse was {spouse}.",
)
PERSON_CHILDREN = (
    "{His} children include {children}.",
    "{Short} had {count} children, among them {children}.",
)
PERSON_CHILD = ("{His} only child is {children}.", "{Short} had one child, {children}.")
PERSON_DEATH = (
    "{Short} died in {death_city} on {death_us}, aged {age}.",
    "{He} died on {death_us}, in {death_city}, at the age of {age}.",
    "{Short} died on {death_us}, in {death_city}.",
)
PERSON_CAREER = {
    "writer": (
        "{His} writing is noted for its spare style and its attention to ordinary lives.",
        "{He} began publishing verse and short prose in literary magazines while still young.",
        "Critics have compared {his} work to the chronicles of earlier provincial writers.",
        "{He} supported {him}self for years as a teacher and translator.",
        "{His} early manuscripts were rejected by several publishers.",
    ),
    "director": (
        "{He} began {his} career as an assistant in a film studio before directing {his} own pictures.",
        "{His} films are known for long takes and naturalistic performances.",
        "{He} often worked with non-professional actors.",
        "{He} wrote or co-wrote the screenplays of most of {his} films.",
    ),
    "musician": (
        "{He} learned to play several instruments as a child.",
        "{He} performed in clubs and dance halls before recording professionally.",
        "{His} songs often draw on the folk music of {birth_country}.",
        "{He} toured widely for most of {his} career.",
    ),
    "politician": (
        "{He} entered public life as a member of a municipal council.",
        "{He} was known as a skilful negotiator and a cautious reformer.",
        "{He} served for many years in the national assembly.",
        "{His} speeches on education and public health were widely reported.",
    ),
    "business": (
        "{He} built {his} fortune in trade and manufacturing.",
        "{He} was known for reinvesting profits in new ventures.",
        "{He} served on the boards of several firms and charities.",
        "{His} business correspondence survives in large part.",
    ),
    "scientist": (
        "{His} research concerned problems of measurement and classification.",
        "{He} published widely in the journals of {his} field and lectured to general audiences.",
        "{He} was elected to the national academy of sciences.",
        "Several of {his} instruments are preserved in museum collections.",
    ),
    "explorer": (
        "{He} led several expeditions into remote mountain country.",
        "{His} field notes and maps remained valuable sources for later travellers.",
        "{He} wrote popular accounts of {his} journeys.",
        "{He} was awarded the gold medal of a geographical society.",
    ),
    "artist": (
        "{His} early work was exhibited in the galleries of {birth_city}.",
        "{He} was known for {his} use of colour and light.",
        "{He} trained in the studio of an older master before working independently.",
        "{His} works are held by several public collections.",
    ),
}
PERSON_LEGACY = (
    "A street in {birth_city} is named after {him}.",
    "{His} letters and notebooks are kept in a public archive.",
    "Several biographies of {short} have been published.",
    "{He} was known to friends for {his} dry humour and {his} long walks.",
    "{His} portrait hangs in the town hall of {birth_city}.",
    "Later historians have reassessed {his} place among the {occupation}s of {his} generation.",
    "{His} working methods were described in detail by {his} contemporaries.",
    "The house where {he} lived for many years is now a small museum.",
)

# Places ------------------------------------------------------------------------------------------

CITY_LEAD = (
    "{name} is a city in {country}.",
    "{name} is a city of {country}.",
    "{name} is a settlement in {country}.",
)
CITY_LEAD_RIVER = (
    "{name} is a city in {country}, on the {river}.",
    "{name} is a city in {country} lying on the {river}.",
    "{name} is a city of {country} on the banks of the {river}.",
)
CITY_CAPITAL = ("It is the capital of {country}.", "{name} is the capital and largest city of {country}.")
CITY_FOUNDED = (
    "The city was founded in {founded}.",
    "{name} was founded in {founded}.",
    "The first settlement on the site, from which the city grew, dates from {founded}.",
)
CITY_POPULATION = (
    "At the {census} census it had a population of {population}.",
    "{name} has a population of {population} according to the {census} census.",
    "As of {census}, {population} people lived in the city.",
)
CITY_ECHO = (
    "It should not be confused with {other}, a city in {other_country}.",
    "Not to be confused with {other} in {other_country}.",
)
CITY_MAYOR = (
    "The current mayor of {name} is {mayor}.",
    "{mayor} serves as mayor of {name}.",
    "The city is led by mayor {mayor}.",
)
CITY_NO_MAYOR = ("The city is governed by an elected council.", "Local government rests with a city council.")
CITY_NOTABLE = (
    "Notable people born in {name} include {people}.",
    "People born in the city include {people}.",
)
CITY_INSTITUTIONS = (
    "{name} is home to {institutions}.",
    "Institutions based in the city include {institutions}.",
)
CITY_BAND = ("The band {band} was formed in {name} in {year}.",)
CITY_NEIGHBOURS = ("Other cities in {country} include {neighbours}.",)
CITY_HISTORY = (
    ("A market charter was granted to the town in {year}.", 0),
    ("The old stone bridge dates from {year}.", 0),
    ("A great fire destroyed much of the old town in {year}.", 0),
    ("The town walls were demolished in {year} to make room for new streets.", 1700),
    ("The railway reached the city in {year}.", 1840),
    ("The cathedral was completed in {year}.", 0),
    ("The city hall was rebuilt in {year} after a flood.", 0),
    ("An electric tramway opened in {year}.", 1890),
)
CITY_CULTURE = (
    "The city museum holds collections of local history and art.",
    "Its football club plays in the national league.",
    "The municipal theatre stages plays and operas through the winter season.",
    "A botanical garden was laid out on the site of the old fortifications.",
    "The city is known for its bakeries and its spiced sausages.",
    "Its oldest church contains painted ceilings of some renown.",
    "A large park along the water is popular with walkers.",
)
CITY_FILLER = (
    "The local economy rests on trade, crafts and services.",
    "The old town is known for its covered markets and narrow lanes.",
    "A regional railway links the city with the rest of {country}.",
    "The city hosts an annual festival in late summer.",
    "Its main square is lined with merchants' houses from several centuries.",
)

COUNTRY_LEAD = (
    "{name} is a country with its capital at {capital}.",
    "{name} is a sovereign state whose capital is {capital}.",
    "{name} is a country; its capital and largest city is {capital}.",
)
COUNTRY_ESTABLISHED = (
    "It was established as a state in {established}.",
    "{name} became an independent state in {established}.",
    "The country was founded in {established}.",
)
COUNTRY_LANGUAGE = (
    "The official language is {language}.",
    "Most of its people speak {language}, the official language.",
)
COUNTRY_CURRENCY = ("Its currency is the {currency}.", "The national currency is the {currency}.")
COUNTRY_HEAD = ("The current head of state is {head}.", "{head} serves as head of state.")
COUNTRY_CITIES = ("Its largest cities are {cities}.", "The largest cities of {name} are {cities}.")
COUNTRY_MOUNTAIN = ("The highest mountain is {mountain}, at {height} metres.",)
COUNTRY_RIVERS = ("Rivers of the country include {rivers}.", "Its rivers include {rivers}.")
COUNTRY_HISTORY = (
    ("The first constitution was adopted in {year}.", 0),
    ("A long border dispute with its neighbours was settled in {year}.", 0),
    ("Universal suffrage was introduced in {year}.", 1850),
    ("The {currency} was introduced as the national currency in {year}.", 1700),
    ("A land reform broke up the great estates in {year}.", 1750),
    ("The national library was founded in {year}.", 0),
)
COUNTRY_FILLER = (
    "The country has a temperate climate with cold winters and mild summers.",
    "Agriculture, trade and manufacturing dominate the economy.",
    "Its landscape ranges from coastal plains to forested uplands.",
    "The state is divided into provinces, each with its own assembly.",
)

RIVER_LEAD = ("The {name} is a river in {country}.", "The {name} is a river that flows through {country}.")
RIVER_LENGTH = ("It is {length} kilometres long.", "The river has a length of {length} kilometres.")
RIVER_SOURCE = ("It rises on the slopes of {mountain}.", "Its source lies on {mountain}.")
RIVER_CITIES = ("Cities on the river include {cities}.", "The river passes {cities}.")
RIVER_FILLER = (
    "Its valley has been farmed for many centuries.",
    "The river freezes in hard winters, when it can be crossed on foot.",
    "Barges once carried timber and grain along its lower course.",
    "Several dams regulate its flow.",
    "Its lower reaches form a wide delta rich in birdlife.",
    "Anglers prize its upper course for trout.",
)

MOUNTAIN_LEAD = ("{name} is a mountain in {country}.", "{name} is a peak in {country}.")
MOUNTAIN_HEIGHT = (
    "It rises to {height} metres above sea level.",
    "Its summit stands {height} metres above sea level.",
    "The mountain is {height} metres high.",
)
MOUNTAIN_ASCENT = (
    "It was first climbed in {year} by {climber}.",
    "The first ascent was made by {climber} in {year}.",
    "{climber} reached the summit first, in {year}.",
)
MOUNTAIN_NO_ASCENT = ("The date of its first ascent is not recorded.",)
MOUNTAIN_RIVER = ("The {river} rises on its slopes.",)
MOUNTAIN_NEIGHBOUR = ("The nearby {other} reaches {other_height} metres.",)
MOUNTAIN_FILLER = (
    "Its lower slopes are covered in pine forest.",
    "The summit is often hidden in cloud.",
    "A mountain hut stands below the final ridge.",
    "The standard route follows the northern ridge.",
    "Its glaciers have retreated markedly over the past century.",
    "The mountain appears on the coat of arms of a nearby town.",
)

# Organisations -----------------------------------------------------------------------------------

COMPANY_LEAD = (
    "{name} is {a_industry} company headquartered in {city}.",
    "{name} is {a_industry} company based in {city}.",
    "{name} is {a_industry} firm with its headquarters in {city}.",
)
COMPANY_FOUNDED_BY = (
    "It was founded in {year} by {founder}.",
    "The company was founded by {founder} in {year}.",
    "{founder} founded the company in {year}.",
)
COMPANY_FOUNDED = ("It was founded in {year}.", "The company was established in {year}.")
COMPANY_FOUNDER = (
    "{founder}, {a_founder_occupation} born in {founder_city} in {founder_year}, ran the firm in its "
    "early years.",
)
COMPANY_CEO = (
    "Its chief executive is {ceo}.",
    "{ceo} serves as the company's chief executive.",
    "The company is currently led by chief executive {ceo}.",
)
COMPANY_EMPLOYEES = ("Notable employees have included {people}.", "Its staff have included {people}.")
COMPANY_NEIGHBOURS = ("Other firms headquartered in {city} include {others}.",)
COMPANY_HISTORY = (
    ("In {year}, the company opened its first branch outside {city}.", 0),
    ("The firm was reorganised as a joint-stock company in {year}.", 0),
    ("A new headquarters building was completed in {year}.", 0),
    ("The company survived a severe financial crisis in {year}.", 0),
    ("It was listed on the stock exchange in {year}.", 1850),
)
COMPANY_FILLER = (
    "The company grew steadily through the following decades.",
    "It expanded into neighbouring markets after a period of reorganisation.",
    "Its archives are preserved in {city}.",
    "The firm has been reorganised several times but has kept its name.",
)

UNIVERSITY_LEAD = (
    "{name} is a university in {city}, {country}.",
    "{name} is a public university located in {city}.",
    "{name} is an institution of higher education in {city}.",
)
UNIVERSITY_FOUNDED_BY = (
    "It was founded in {year} by {founder}.",
    "{founder} founded the university in {year}.",
)
UNIVERSITY_FOUNDED = ("It was founded in {year}.", "The university was established in {year}.")
UNIVERSITY_ALUMNI = ("Its alumni include {people}.", "Former students include {people}.")
UNIVERSITY_HISTORY = (
    ("The first women students were admitted in {year}.", 1860),
    ("The library moved into a new building in {year}.", 0),
    ("A faculty of medicine was added in {year}.", 0),
    ("The university was granted self-government in {year}.", 0),
)
UNIVERSITY_FILLER = (
    "The university is organised into faculties of arts, sciences, law and medicine.",
    "Its library holds one of the largest collections in {country}.",
    "Teaching is in {language}.",
    "The main building stands in a park near the centre of {city}.",
)

BAND_LEAD = (
    "{name} is a band formed in {city} in {year}.",
    "{name} is a musical group formed in {year} in {city}.",
    "Formed in {city} in {year}, {name} became one of the better-known bands of {country}.",
)
BAND_MEMBERS = ("The band's original members were {people}.", "Its founding line-up was {people}.")
BAND_ALBUMS = ("Its albums include {works}.", "The band has released {works}.")
BAND_HISTORY = (
    ("The band's breakthrough came in {year}.", 0),
    ("The group went on a long hiatus in {year}.", 0),
    ("Its first national tour took place in {year}.", 0),
)
BAND_FILLER = (
    "The band toured widely in its early years.",
    "Its sound drew on folk melodies and dance music.",
    "The group has changed its line-up several times.",
    "Critics praised its live performances.",
)

# Works and awards --------------------------------------------------------------------------------

BOOK_LEAD = (
    "{name} is {a_year} novel by {creator}.",
    "{name} is a novel by {creator}, first published in {year}.",
    "{name} is a book written by {creator} and published in {year}.",
)
FILM_LEAD = (
    "{name} is {a_year} film directed by {creator}.",
    "{name} is a film by {creator}, released in {year}.",
    "Directed by {creator}, {name} was released in {year}.",
)
ALBUM_LEAD = (
    "{name} is a studio album by {creator}, released in {year}.",
    "{name} is {a_year} album by {creator}.",
    "{creator} released the album {name} in {year}.",
)
WORK_SETTING = {
    "book": (
        "The story is set in {setting}, a city in {setting_country}.",
        "The novel takes place in {setting}.",
    ),
    "film": (
        "The film was shot on location in {setting}.",
        "The story is set in {setting}, in {setting_country}.",
    ),
    "album": ("It was recorded in {setting}.", "The album was recorded in studios in {setting}."),
}
WORK_AWARD = ("It won the {award} in {award_year}.", "In {award_year} it received the {award}.")
WORK_SIBLINGS = {
    "book": ("Other books by {creator} include {works}.",),
    "film": ("{creator} also directed {works}.",),
    "album": ("Other albums by {creator} include {works}.",),
}
WORK_EDITION = {
    "book": ("A revised edition appeared in {edition}.", "It was adapted for the stage in {edition}."),
    "film": (
        "A restored version was released in {edition}.",
        "It was first shown on television in {edition}.",
    ),
    "album": (
        "A remastered edition was issued in {edition}.",
        "It was reissued on a new label in {edition}.",
    ),
}
WORK_CREATOR = ("{creator} was born in {creator_city} in {creator_year}.",)
WORK_FILLER = {
    "book": (
        "The story follows {a_occupation} who returns home after many years abroad.",
        "Its central figure is {a_occupation} caught between duty and ambition.",
        "Reviewers praised its structure and its portrait of provincial life.",
        "It has been translated into several languages.",
    ),
    "film": (
        "The film follows {a_occupation} through a single difficult winter.",
        "Its cast was drawn largely from the local theatre.",
        "Critics praised its photography and its restrained performances.",
        "It was restored and re-released decades later.",
    ),
    "album": (
        "The album mixes slow ballads with fast dance numbers.",
        "Its opening song became a radio favourite.",
        "Critics described it as the band's most personal record.",
        "It was reissued with additional recordings years later.",
    ),
}

AWARD_LEAD = (
    "The {name} is {a_domain} award established in {year} in {country}.",
    "The {name} is an annual {domain} prize presented in {country} since {year}.",
)
AWARD_WINNERS = ("Winners have included {works}.", "Past winners include {works}.")
AWARD_FILLER = (
    "The prize is awarded each year by a jury of critics.",
    "Winners receive a medal and a sum of money.",
    "The shortlist is announced each spring.",
    "The award has been criticised for favouring established names.",
)
