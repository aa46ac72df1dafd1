package repository

// MaxTextSet lets tests choose between the two forms of a text match
// (textSets).
var MaxTextSet = &maxTextSet
