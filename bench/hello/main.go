// Command hello is bench/run's floor: a Go program that prints 30 bytes.
package main

import "fmt"

func main() {
	fmt.Println("hello, world! oat bench floor") // 29 characters and a newline
}
