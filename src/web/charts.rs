//! Bar charts drawn on the server as SVG (no script): one bar per row, split into attended,
//! no-shows, cancellations and open appointments. The template gives each chart a title, a
//! description and the table with the same figures beside it.

use crate::domain::statistics::Counts;

/// Width of the drawing in SVG units (it scales to the page).
pub const WIDTH: u32 = 640;
const LABEL_WIDTH: u32 = 170;
const BAR_AREA: u32 = 400;
const ROW: u32 = 30;
const BAR_HEIGHT: u32 = 20;
/// Characters of a row label drawn in the chart (the table has the whole label).
const LABEL_CHARS: usize = 22;

/// The parts of a bar, in drawing order, with their CSS class.
pub const PARTS: [&str; 4] = ["attended", "no_shows", "cancellations", "open"];

/// A chart ready to draw.
pub struct Chart {
    pub id: String,
    pub width: u32,
    pub title: String,
    pub desc: String,
    pub height: u32,
    pub bars: Vec<Bar>,
}

/// One row of a chart.
pub struct Bar {
    pub label: String,
    pub y: u32,
    pub text_y: u32,
    pub segments: Vec<Segment>,
    pub total: u32,
    pub total_x: u32,
}

/// One part of a bar.
pub struct Segment {
    pub x: u32,
    pub width: u32,
    pub class: &'static str,
}

/// A chart of `rows` (label, figures), bars scaled to the largest total.
pub fn stacked(id: &str, title: String, desc: String, rows: &[(String, Counts)]) -> Chart {
    let largest = rows.iter().map(|(_, c)| c.bookings).max().unwrap_or(0).max(1);
    let scale = |n: u32| (u64::from(n) * u64::from(BAR_AREA) / u64::from(largest)) as u32;
    let bars = rows
        .iter()
        .zip(0u32..)
        .map(|((label, counts), i)| {
            let mut x = LABEL_WIDTH;
            let mut segments = Vec::new();
            for (class, n) in PARTS.iter().zip([counts.attended, counts.no_shows, counts.cancellations, counts.open]) {
                let width = scale(n).max(u32::from(n > 0));
                if width > 0 {
                    segments.push(Segment { x, width, class });
                }
                x += width;
            }
            Bar {
                label: short(label),
                y: i * ROW + 5,
                text_y: i * ROW + 5 + BAR_HEIGHT - 5,
                segments,
                total: counts.bookings,
                total_x: x + 6,
            }
        })
        .collect();
    Chart { id: id.to_owned(), width: WIDTH, title, desc, height: (rows.len() as u32).max(1) * ROW + 10, bars }
}

fn short(label: &str) -> String {
    if label.chars().count() <= LABEL_CHARS {
        return label.to_owned();
    }
    let mut cut: String = label.chars().take(LABEL_CHARS - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_scaled_to_the_largest_total_and_split_by_outcome() {
        let rows = vec![
            ("Januar 2026".to_owned(), Counts { bookings: 4, attended: 2, no_shows: 1, cancellations: 1, open: 0 }),
            ("Februar 2026".to_owned(), Counts { bookings: 2, attended: 0, no_shows: 0, cancellations: 0, open: 2 }),
            ("Eine Beraterin mit sehr langem Namen".to_owned(), Counts::default()),
        ];
        let chart = stacked("c", "t".into(), "d".into(), &rows);
        let widths = |bar: &Bar| bar.segments.iter().map(|s| (s.class, s.width)).collect::<Vec<_>>();
        assert_eq!(widths(&chart.bars[0]), [("attended", 200), ("no_shows", 100), ("cancellations", 100)]);
        assert_eq!(widths(&chart.bars[1]), [("open", 200)]);
        assert!(chart.bars[2].segments.is_empty());
        assert_eq!(chart.bars[0].total_x, LABEL_WIDTH + BAR_AREA + 6);
        assert_eq!(chart.bars[2].label.chars().count(), LABEL_CHARS);
        assert_eq!(chart.height, 3 * ROW + 10);
    }
}
