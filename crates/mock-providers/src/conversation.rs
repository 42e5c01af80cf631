//! The shape of a conversation that Anthropic and Bedrock both enforce: it starts with
//! a user turn, the roles alternate, and every tool use is answered by a tool result
//! in the next turn (and no result answers nothing). Each provider reads its own
//! blocks into [`Turn`]s and words the [`Flaw`] in its own error message.

/// One checked message.
#[derive(Debug, Default)]
pub(crate) struct Turn<'a> {
    /// `"user"` or `"assistant"`.
    pub(crate) role: &'a str,
    /// Its text blocks.
    pub(crate) texts: Vec<&'a str>,
    /// How many other blocks it holds (images, tool uses and results, …).
    pub(crate) others: usize,
    pub(crate) tool_uses: Vec<&'a str>,
    pub(crate) tool_results: Vec<&'a str>,
    /// A block marked as a cache breakpoint: whether its TTL is one hour.
    pub(crate) breakpoint: Option<bool>,
}

/// What is wrong with a conversation; `index` is the message where it shows.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Flaw<'a> {
    Empty,
    FirstNotUser,
    SameRole {
        role: &'a str,
    },
    /// Tool uses of the message before `index` that `index` does not answer.
    Unanswered {
        index: usize,
        ids: Vec<&'a str>,
    },
    /// A tool result at `index` that answers no tool use of the message before.
    Stray {
        index: usize,
        id: &'a str,
    },
}

pub(crate) fn check<'a>(turns: &[Turn<'a>]) -> Result<(), Flaw<'a>> {
    let Some(first) = turns.first() else {
        return Err(Flaw::Empty);
    };
    if first.role != "user" {
        return Err(Flaw::FirstNotUser);
    }
    if let Some(pair) = turns.windows(2).find(|pair| pair[0].role == pair[1].role) {
        return Err(Flaw::SameRole { role: pair[1].role });
    }
    if let Some(&id) = first.tool_results.first() {
        return Err(Flaw::Stray { index: 0, id });
    }
    for (i, pair) in turns.windows(2).enumerate() {
        let (asked, answered) = (&pair[0], &pair[1]);
        let ids: Vec<&str> = asked
            .tool_uses
            .iter()
            .copied()
            .filter(|id| !answered.tool_results.contains(id))
            .collect();
        if !ids.is_empty() {
            return Err(Flaw::Unanswered { index: i + 1, ids });
        }
        if let Some(&id) = answered
            .tool_results
            .iter()
            .find(|id| !asked.tool_uses.contains(id))
        {
            return Err(Flaw::Stray { index: i + 1, id });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn<'a>(role: &'a str, uses: &[&'a str], results: &[&'a str]) -> Turn<'a> {
        Turn {
            role,
            tool_uses: uses.to_vec(),
            tool_results: results.to_vec(),
            ..Turn::default()
        }
    }

    #[test]
    fn flaws_are_found_in_order() {
        assert_eq!(check(&[]), Err(Flaw::Empty));
        assert_eq!(
            check(&[turn("assistant", &[], &[])]),
            Err(Flaw::FirstNotUser)
        );
        assert_eq!(
            check(&[turn("user", &[], &[]), turn("user", &[], &[])]),
            Err(Flaw::SameRole { role: "user" })
        );
        let asked = turn("assistant", &["a", "b"], &[]);
        assert_eq!(
            check(&[turn("user", &[], &[]), asked, turn("user", &[], &["a"])]),
            Err(Flaw::Unanswered {
                index: 2,
                ids: vec!["b"]
            })
        );
        let asked = turn("assistant", &["a"], &[]);
        assert_eq!(
            check(&[
                turn("user", &[], &[]),
                asked,
                turn("user", &[], &["a", "c"])
            ]),
            Err(Flaw::Stray { index: 2, id: "c" })
        );
        let asked = turn("assistant", &["a"], &[]);
        assert_eq!(
            check(&[turn("user", &[], &[]), asked, turn("user", &[], &["a"])]),
            Ok(())
        );
    }
}
