"""The test suite. Its process answers questions and builds small indexes: the thread policy
is applied here, first, as the command line does before any model or faiss loads."""

from index import threads

threads.apply("question")
