"""Search QA (Search-R1, ZeroSearch, ASearcher): an agent searches a corpus or the web, reads pages, answers.

``env.WebSearchEnv`` is the env; ``backends`` holds the search engines it can talk to (an embedded
local index by default); ``world`` generates the offline encyclopedia and its questions; ``answers``
holds the rewards as pure functions.
"""
