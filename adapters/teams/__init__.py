"""Microsoft Teams adapter (Bot Framework). Every botbuilder import of the project lives here,
so that a later move to the Microsoft 365 Agents SDK touches this folder only."""
