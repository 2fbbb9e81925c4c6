//! Checks of the learners against brute force and closed forms.
