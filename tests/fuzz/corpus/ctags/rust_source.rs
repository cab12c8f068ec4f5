//! crate docs
use std::fmt;

/// A point in space.
pub struct Point {
    pub x: i32,
    pub y: i32,
}

pub enum Shape {
    Circle(f64),
    Square(f64),
}

pub trait Draw {
    fn draw(&self) -> String;
}

impl Point {
    /// Makes a point.
    pub fn new(x: i32,
               y: i32) -> Self {
        Point { x, y }
    }
}

impl Draw for Point {
    fn draw(&self) -> String {
        format!("{}", self.x)
    }
}

pub type Pair = (i32, i32);

pub const MAX: i32 = 10;

macro_rules! square {
    ($x:expr) => { $x * $x };
}

mod inner {
    pub fn helper() -> i32 { 1 }
}

pub fn top_level(a: i32) -> i32 {
    let local = a + 1;
    local
}
