//! One page of a list read a page at a time, and whether more follow it.

/// At most a page's worth of items, in the list's order, and whether the list goes on after them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    items: Vec<T>,
    more: bool,
}

impl<T> Page<T> {
    /// The page made of `read`, which was read with one item more than `size` asked for: that
    /// extra item, if it came, only tells that more follow.
    pub fn from_one_more(mut read: Vec<T>, size: u64) -> Self {
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        let more = read.len() > size;
        read.truncate(size);
        Self { items: read, more }
    }

    pub fn items(&self) -> &[T] {
        &self.items
    }

    /// Whether items follow after this page.
    pub fn more(&self) -> bool {
        self.more
    }

    /// The items and whether more follow.
    pub fn into_parts(self) -> (Vec<T>, bool) {
        (self.items, self.more)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extra_item_read_says_more_follow_and_is_not_on_the_page() {
        assert_eq!(Page::from_one_more(vec![1, 2, 3], 2).into_parts(), (vec![1, 2], true));
        assert_eq!(Page::from_one_more(vec![1, 2], 2).into_parts(), (vec![1, 2], false));
        assert_eq!(Page::from_one_more(Vec::<u8>::new(), 2).into_parts(), (vec![], false));
    }
}
