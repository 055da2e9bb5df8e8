"""Temporal knowledge graphs: multi-turn QA and forecasting over time-stamped facts, with verifiable rewards.

``timeutil`` turns dates into integer day numbers and compares time answers at the gold's granularity;
``store.TKGStore`` holds the facts in numpy columns and answers neighbourhood, timeline, connection and
event queries in milliseconds; ``loaders`` read ICEWS/GDELT/YAGO/Wikidata/TGB files and the MultiTQ and
TimeQuestions question sets (``questions_io``); ``synthetic`` generates an ICEWS-like graph of fictional
actors so everything runs offline.
"""
