module ipcluster

go 1.26

require github.com/pebbe/zmq4 v1.4.0 // indirect
