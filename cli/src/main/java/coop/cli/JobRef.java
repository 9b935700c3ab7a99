package coop.cli;

import coop.v1.Job;
import coop.v1.ListJobsRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * A job as a user names it on the command line: its id ({@code 123}), or a task of a job array by
 * the array's id and the task's index ({@code 122_7}, as Slurm writes it). A plain id may also
 * name a whole array; the commands that accept one try it as a job first.
 */
record JobRef(long id, int index) {

    /** Whether it names a task of an array by index, rather than a job (or array) by id. */
    boolean isTask() {
        return index >= 0;
    }

    static JobRef parse(String text) {
        String t = text.strip();
        int cut = t.indexOf('_');
        try {
            if (cut < 0) {
                return new JobRef(positive(Long.parseLong(t), text), -1);
            }
            long array = positive(Long.parseLong(t.substring(0, cut)), text);
            int index = Integer.parseInt(t.substring(cut + 1));
            if (index < 0) {
                throw new NumberFormatException();
            }
            return new JobRef(array, index);
        } catch (NumberFormatException e) {
            throw new CliException("'" + text + "' is not a job: give its id (123) or an array task as ARRAY_INDEX "
                    + "(122_7)");
        }
    }

    private static long positive(long id, String text) {
        if (id < 1) {
            throw new NumberFormatException(text);
        }
        return id;
    }

    /** The job's id: for an array task, looked up among the array's tasks. */
    long jobId(Client c) {
        if (!isTask()) {
            return id;
        }
        for (Job j : c.allJobs(ListJobsRequest.newBuilder().setArrayId(id).build())) {
            if (j.getArrayIndex() == index) {
                return j.getId();
            }
        }
        throw new CliException("job array " + id + " has no task with index " + index);
    }

    /** The id a listing shows: ARRAY_INDEX for a task, the plain id otherwise. */
    static String shown(Job job) {
        return job.getArrayId() == 0 ? Long.toString(job.getId()) : job.getArrayId() + "_" + job.getArrayIndex();
    }

    static boolean notFound(StatusRuntimeException e) {
        return e.getStatus().getCode() == Status.Code.NOT_FOUND;
    }

    /** The picocli converter, so that a bad id is refused before anything is sent. */
    static final class Converter implements picocli.CommandLine.ITypeConverter<JobRef> {
        @Override
        public JobRef convert(String value) {
            try {
                return parse(value);
            } catch (CliException e) {
                throw new picocli.CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
