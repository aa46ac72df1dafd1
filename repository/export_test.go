package repository

// MaxTextSet lets tests choose between the two forms of a text match
// (textSets).
var MaxTextSet = &maxTextSet

// NarrowLimit and SmallSegment let tests send small filters down the
// paths of large ones (narrowLimit, smallSegment).
var (
	NarrowLimit  = &narrowLimit
	SmallSegment = &smallSegment
)
