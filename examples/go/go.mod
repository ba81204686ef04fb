module wasmhost.example/go

go 1.19
