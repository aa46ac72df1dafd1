package repository

import (
	"github.com/policyresults/policyresults/repository/issuequery"
	"github.com/policyresults/policyresults/repository/texts"
)

// MaxTextSet lets tests choose between the two forms of a text match
// (texts.MaxSet).
var MaxTextSet = &texts.MaxSet

// NarrowLimit and SmallSegment let tests send small filters down the
// paths of large ones (issuequery.NarrowLimit, issuequery.SmallSegment).
var (
	NarrowLimit  = &issuequery.NarrowLimit
	SmallSegment = &issuequery.SmallSegment
)
