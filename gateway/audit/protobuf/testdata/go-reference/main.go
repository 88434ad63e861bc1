// The reference the decoder's tests compare against: apimachinery's own protobuf decoding and
// encoding/json, at the version the schema is generated from. One request per line on stdin, one
// answer per line on stdout ("ERR <message>" or the JSON):
//
//	b <hex>    a protobuf body (k8s\0 + runtime.Unknown), decoded with client-go's scheme
//	q <hex>    a resource.Quantity string, parsed and marshalled
//	d <int64>  a metav1.Duration of that many nanoseconds, marshalled
package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/client-go/kubernetes/scheme"
)

func answer(line string, decoder *protobuf.Serializer) (interface{}, error) {
	mode, arg, _ := strings.Cut(line, " ")
	switch mode {
	case "b":
		data, err := hex.DecodeString(arg)
		if err != nil {
			return nil, err
		}
		obj, _, err := decoder.Decode(data, nil, nil)
		return obj, err
	case "q":
		text, err := hex.DecodeString(arg)
		if err != nil {
			return nil, err
		}
		return resource.ParseQuantity(string(text))
	case "d":
		n, err := strconv.ParseInt(arg, 10, 64)
		return metav1.Duration{Duration: time.Duration(n)}, err
	}
	return nil, fmt.Errorf("unknown request %q", mode)
}

func main() {
	decoder := protobuf.NewSerializer(scheme.Scheme, scheme.Scheme)
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for in.Scan() {
		value, err := answer(in.Text(), decoder)
		var data []byte
		if err == nil {
			data, err = json.Marshal(value)
		}
		if err != nil {
			fmt.Fprintf(out, "ERR %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
		} else {
			fmt.Fprintf(out, "%s\n", data)
		}
	}
}
