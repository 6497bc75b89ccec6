"""The Storyboard tab: `tab.StoryboardTab` (strip of shot cards, inspector, render history,
preview player, export dialog) over `cinestudio.storyboard`."""
