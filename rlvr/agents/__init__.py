"""Policies: scripted bots live with their games; LLM backends arrive here."""
