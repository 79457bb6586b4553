"""Agents that enact protocols on the exchange: one interface, three behaviours.

`Agent.decide(view) -> Choice | None`: given what the agent may send now (the
Monitor's enabled messages for its role) and the state of the negotiation it is
in, return the envelopes to send (and/or a time to be asked again).
"""
from .adversarial import AdversarialAgent
from .base import Agent, Choice, Send, View
from .random_agent import RandomAgent
from .scripted import ScriptedAgent

__all__ = ["Agent", "AdversarialAgent", "Choice", "RandomAgent", "ScriptedAgent", "Send", "View"]
