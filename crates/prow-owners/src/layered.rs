//! Layered sets: users grouped by distance from a file (layer 0 is nearest).

use std::collections::BTreeSet;

/// A set of users split into layers by OWNERS distance, like Prow's
/// `layeredsets.String`. A user appears only in the first (nearest) layer it
/// was inserted into; blunderbuss relies on this to prefer close reviewers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LayeredSet {
    layers: Vec<BTreeSet<String>>,
}

impl LayeredSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Inserts `items` into `layer` unless already present in any layer.
    pub fn insert<I, S>(&mut self, layer: usize, items: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        while self.layers.len() <= layer {
            self.layers.push(BTreeSet::new());
        }
        for item in items {
            let item = item.as_ref();
            if !self.contains(item) {
                self.layers[layer].insert(item.to_owned());
            }
        }
    }

    /// Whether any layer holds `item`.
    pub fn contains(&self, item: &str) -> bool {
        self.layers.iter().any(|l| l.contains(item))
    }

    /// Total number of users.
    pub fn len(&self) -> usize {
        self.layers.iter().map(BTreeSet::len).sum()
    }

    /// Whether no layer holds any user.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The layers, nearest first (some may be empty).
    pub fn layers(&self) -> &[BTreeSet<String>] {
        &self.layers
    }

    /// All users, layer by layer, sorted within each layer.
    pub fn to_list(&self) -> Vec<String> {
        self.layers.iter().flatten().cloned().collect()
    }

    /// All users as a flat set.
    pub fn to_set(&self) -> BTreeSet<String> {
        self.layers.iter().flatten().cloned().collect()
    }

    /// Layer-wise union; users keep their nearest layer.
    pub fn union(&self, other: &LayeredSet) -> LayeredSet {
        let mut out = LayeredSet::new();
        for (i, l) in self.layers.iter().enumerate() {
            out.insert(i, l);
        }
        for (i, l) in other.layers.iter().enumerate() {
            out.insert(i, l);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_layer_wins() {
        let mut s = LayeredSet::new();
        s.insert(1, ["b", "a"]);
        s.insert(0, ["a", "c"]);
        assert_eq!(s.layers().len(), 2);
        assert_eq!(s.to_list(), vec!["c", "a", "b"]);
        assert_eq!(s.len(), 3);
        assert!(s.contains("b"));
    }
}
