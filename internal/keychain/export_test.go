package keychain

// ChunkUser is chunkUser, for the external Secret Service tests.
var ChunkUser = chunkUser

// MustSet and MustGet are the internal tests' helpers, for the external ones.
var MustSet, MustGet = mustSet, mustGet
